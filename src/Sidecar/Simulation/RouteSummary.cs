using System.Globalization;

namespace Sidecar.Simulation;

/// <summary>
/// One route's result in the JSON that <c>simulate --json</c> and <c>demo --json</c> both print (one object keyed by
/// route name), so a simulated run and a real one can be compared by a tool. The shape is fixed: add, never rename.
/// </summary>
internal sealed record RouteSummary
{
    /// <summary>Share of calls answered 2xx (0..1).</summary>
    public required double CallerSuccess { get; init; }

    /// <summary>Upstream attempts per call: 1 without retries, up to the attempt limit.</summary>
    public required double UpstreamRequestsPerCall { get; init; }

    public required double? LatencyP50Ms { get; init; }

    public required double? LatencyP99Ms { get; init; }

    /// <summary>Calls by attempts made ("1" → calls answered on their first attempt).</summary>
    public required IReadOnlyDictionary<string, long> Attempts { get; init; }

    /// <summary>Calls that were refused a retry by the retry budget.</summary>
    public required long BudgetRefused { get; init; }

    /// <summary>The summary of counts; the ratios are 0 when there were no calls.</summary>
    public static RouteSummary From(long calls, long successes, long upstreamRequests, TimeSpan? p50, TimeSpan? p99, IReadOnlyList<long> attempts, long budgetRefused)
    {
        var histogram = new Dictionary<string, long>(attempts.Count, StringComparer.Ordinal);
        for (var i = 0; i < attempts.Count; i++)
        {
            histogram[(i + 1).ToString(CultureInfo.InvariantCulture)] = attempts[i];
        }

        return new RouteSummary
        {
            CallerSuccess = calls == 0 ? 0 : Math.Round((double)successes / calls, 4),
            UpstreamRequestsPerCall = calls == 0 ? 0 : Math.Round((double)upstreamRequests / calls, 4),
            LatencyP50Ms = p50 is { } a ? Math.Round(a.TotalMilliseconds, 3) : null,
            LatencyP99Ms = p99 is { } b ? Math.Round(b.TotalMilliseconds, 3) : null,
            Attempts = histogram,
            BudgetRefused = budgetRefused,
        };
    }

    public static RouteSummary From(RouteStats stats) =>
        From(stats.Calls, stats.Successes, stats.UpstreamRequests, stats.Latency.Percentile(50), stats.Latency.Percentile(99), stats.Attempts, stats.BudgetRefused);
}
