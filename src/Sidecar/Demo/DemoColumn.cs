namespace Sidecar.Demo;

/// <summary>One column of the report: what callers of one route saw, and what the upstream served for it.</summary>
internal sealed record DemoColumn
{
    public required int Requests { get; init; }

    public required int Successes { get; init; }

    public required int UpstreamRequests { get; init; }

    public required int UpstreamSuccesses { get; init; }

    /// <summary>Requests by attempts made: index 0 holds the requests answered on the first attempt.</summary>
    public required IReadOnlyList<int> Attempts { get; init; }

    /// <summary>Retries made: attempts beyond the first, summed over requests.</summary>
    public required int Retries { get; init; }

    /// <summary>Requests that got a retryable status (429, 503) back before the attempt limit: a retry was refused (budget, deadline).</summary>
    public required int RefusedRetries { get; init; }

    /// <summary>The route's requests in <c>sidecar_requests_total</c> whose caller got an answer (<c>status_class</c> not <c>none</c>).</summary>
    public int MetricAnswered { get; init; }

    /// <summary>The route's requests in <c>sidecar_requests_total</c> with <c>status_class="5xx"</c>.</summary>
    public int MetricFailed { get; init; }

    public TimeSpan? P50 { get; init; }

    public TimeSpan? P99 { get; init; }

    /// <summary>Summarises <paramref name="samples"/>; attempts above <paramref name="maxAttempts"/> count in its bucket.</summary>
    public static DemoColumn From(IEnumerable<DemoSample> samples, int upstreamRequests, int upstreamSuccesses, int maxAttempts)
    {
        var latencies = new List<TimeSpan>();
        var attempts = new int[maxAttempts];
        var successes = 0;
        var retries = 0;
        var refused = 0;
        foreach (var sample in samples)
        {
            latencies.Add(sample.Latency);
            var made = Math.Clamp(sample.Attempts, 1, maxAttempts);
            attempts[made - 1]++;
            retries += made - 1;
            if (sample.Succeeded)
            {
                successes++;
            }
            else if (sample.Status is 429 or 503 && made < maxAttempts)
            {
                refused++;
            }
        }

        latencies.Sort();
        return new DemoColumn
        {
            Requests = latencies.Count,
            Successes = successes,
            UpstreamRequests = upstreamRequests,
            UpstreamSuccesses = upstreamSuccesses,
            Attempts = attempts,
            Retries = retries,
            RefusedRetries = refused,
            P50 = Percentiles.NearestRank(latencies, 50),
            P99 = Percentiles.NearestRank(latencies, 99),
        };
    }
}
