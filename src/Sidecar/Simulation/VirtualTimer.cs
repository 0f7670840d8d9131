namespace Sidecar.Simulation;

/// <summary>
/// A timer on the <see cref="VirtualClock"/>. Changing or disposing it bumps its version: the heap entry of the old
/// schedule stays where it is and is skipped when it comes up, so no search of the heap is needed.
/// </summary>
internal sealed class VirtualTimer : ITimer
{
    private readonly VirtualClock _clock;
    private readonly TimerCallback _callback;
    private readonly object? _state;
    private long _period;

    public VirtualTimer(VirtualClock clock, TimerCallback callback, object? state)
    {
        _clock = clock;
        _callback = callback;
        _state = state;
    }

    /// <summary>Which schedule is current: an entry armed under another version is stale.</summary>
    public int Version { get; private set; }

    public bool Change(TimeSpan dueTime, TimeSpan period)
    {
        Version++;
        _period = period == Timeout.InfiniteTimeSpan || period <= TimeSpan.Zero ? 0 : period.Ticks;
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            _clock.Arm(this, _clock.Now + Math.Max(dueTime.Ticks, 0), Version);
        }

        return true;
    }

    public void Fire()
    {
        if (_period > 0)
        {
            _clock.Arm(this, _clock.Now + _period, Version);
        }

        _callback(_state);
    }

    public void Dispose() => Version++;

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
