namespace Sidecar.Forwarding;

/// <summary>
/// Lets one log line through per interval, for events an upstream or caller can repeat at will: the first one in an
/// interval is worth a Warning, the rest are counted in metrics and logged at Debug. Lock-free; shared by all requests.
/// </summary>
internal sealed class LogThrottle
{
    private readonly TimeProvider _timeProvider;
    private readonly long _interval;
    private long _next = long.MinValue;

    public LogThrottle(TimeProvider timeProvider, TimeSpan interval)
    {
        _timeProvider = timeProvider;
        Interval = interval;
        _interval = (long)(interval.TotalSeconds * timeProvider.TimestampFrequency);
    }

    public TimeSpan Interval { get; }

    /// <summary>True for the first call of each interval, false for every other.</summary>
    public bool TryAcquire()
    {
        var now = _timeProvider.GetTimestamp();
        var next = Volatile.Read(ref _next);
        return now >= next && Interlocked.CompareExchange(ref _next, now + _interval, next) == next;
    }
}
