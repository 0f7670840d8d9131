using Sidecar.Telemetry;

namespace Sidecar.Simulation;

/// <summary>
/// What the callers of one simulated route saw, kept as counters, a <see cref="LatencySketch"/> and a fixed number of
/// <see cref="TimelineBucket"/>s, so memory does not grow with the length of a run.
/// </summary>
internal sealed class RouteStats
{
    private readonly long[] _attempts;
    private readonly TimelineBucket[] _timeline;
    private readonly long _bucketTicks;

    public RouteStats(int maxAttempts, TimeSpan duration, TimeSpan timelineInterval)
    {
        _attempts = new long[Math.Max(1, maxAttempts)];
        _bucketTicks = Math.Max(1, timelineInterval.Ticks);
        _timeline = new TimelineBucket[Math.Max(1, (int)Math.Ceiling((double)duration.Ticks / _bucketTicks))];
        for (var i = 0; i < _timeline.Length; i++)
        {
            _timeline[i] = new TimelineBucket();
        }
    }

    public long Calls { get; private set; }

    public long Successes { get; private set; }

    /// <summary>Attempts sent upstream for the calls (refused connections included).</summary>
    public long UpstreamRequests { get; private set; }

    /// <summary>Attempts beyond the first, summed over calls.</summary>
    public long Retries { get; private set; }

    /// <summary>Calls whose retry the budget refused.</summary>
    public long BudgetRefused { get; private set; }

    /// <summary>Calls whose retry something else refused: <c>max_concurrent_retries</c>, <c>max_waiting_retries</c>, the deadline...</summary>
    public long OtherRefused { get; private set; }

    public LatencySketch Latency { get; } = new();

    /// <summary>Calls by attempts made: index 0 holds the calls answered on their first attempt.</summary>
    public IReadOnlyList<long> Attempts => _attempts;

    public IReadOnlyList<TimelineBucket> Timeline => _timeline;

    public TimeSpan TimelineInterval => TimeSpan.FromTicks(_bucketTicks);

    /// <summary>Counts a call that ended at <paramref name="now"/> (ticks of virtual time).</summary>
    public void Record(long now, int status, int attempts, TimeSpan latency, RetrySkipReason? skipped)
    {
        var made = Math.Clamp(attempts, 1, _attempts.Length);
        var success = status is >= 200 and < 300;
        Calls++;
        _attempts[made - 1]++;
        UpstreamRequests += attempts;
        Retries += made - 1;
        Latency.Add(latency);
        if (success)
        {
            Successes++;
        }

        if (skipped == RetrySkipReason.Budget)
        {
            BudgetRefused++;
        }
        else if (skipped is not null)
        {
            OtherRefused++;
        }

        var bucket = Bucket(now);
        bucket.Calls++;
        bucket.Attempts += attempts;
        if (success)
        {
            bucket.Successes++;
        }
    }

    /// <summary>Records the upstream's peak of requests in flight in the interval that holds <paramref name="now"/>.</summary>
    public void RecordUpstreamPeak(long now, int peak)
    {
        var bucket = Bucket(now);
        bucket.PeakUpstreamInFlight = Math.Max(bucket.PeakUpstreamInFlight, peak);
    }

    private TimelineBucket Bucket(long now) => _timeline[Math.Clamp((int)(now / _bucketTicks), 0, _timeline.Length - 1)];
}
