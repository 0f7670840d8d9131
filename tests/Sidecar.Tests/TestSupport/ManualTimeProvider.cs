namespace Sidecar.Tests.TestSupport;

/// <summary>
/// A <see cref="TimeProvider"/> whose clock only moves when a test calls <see cref="Advance"/> or <see cref="SetUtcNow"/>:
/// wall clock and monotonic timestamp move together. Timers are not faked.
/// </summary>
public sealed class ManualTimeProvider : TimeProvider
{
    private long _utcTicks;
    private long _timestamp;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public ManualTimeProvider(DateTimeOffset start) => _utcTicks = start.UtcTicks;

    /// <summary>Ticks (100 ns) per second, so a timestamp is a tick count.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    /// <summary>Moves both clocks forward by <paramref name="delta"/>.</summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        Interlocked.Add(ref _utcTicks, delta.Ticks);
        Interlocked.Add(ref _timestamp, delta.Ticks);
    }

    /// <summary>Sets the wall clock; the monotonic timestamp is left alone (as when a real clock is adjusted).</summary>
    public void SetUtcNow(DateTimeOffset now) => Interlocked.Exchange(ref _utcTicks, now.UtcTicks);
}
