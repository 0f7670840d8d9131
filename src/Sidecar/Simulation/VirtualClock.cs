namespace Sidecar.Simulation;

/// <summary>
/// The simulation's clock: time moves only when <see cref="AdvanceToNext"/> moves it, to the next timer due, and that
/// timer fires on the calling thread. Everything the proxy's code arms on its <see cref="TimeProvider"/> (attempt
/// timers, backoff waits, the budget's seconds) and every event of the model (upstream answers, caller arrivals) sits
/// in one min-heap, so finding what is next costs O(log n) however many requests are in flight. FakeTimeProvider
/// (Microsoft.Extensions.TimeProvider.Testing) scans all its timers to find the next one and does not say when it is,
/// which is what a driver that jumps from event to event needs.
/// </summary>
internal sealed class VirtualClock : TimeProvider
{
    /// <summary>The wall-clock time at virtual zero (only the Retry-After date form reads it).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly PriorityQueue<Scheduled, (long Due, long Sequence)> _heap = new();
    private long _sequence;

    /// <summary>Virtual time since the start, in <see cref="TimeSpan"/> ticks.</summary>
    public long Now { get; private set; }

    public TimeSpan Elapsed => TimeSpan.FromTicks(Now);

    /// <summary>Timers and events waiting, stale ones included (a disposed timer leaves its entry until it is due).</summary>
    public int Pending => _heap.Count;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public override long GetTimestamp() => Now;

    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks(Now);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new VirtualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Runs <paramref name="callback"/> when the clock reaches <paramref name="due"/> (ticks since the start; the past means now).</summary>
    public void Schedule(long due, Action<object?> callback, object? state) =>
        Enqueue(new Scheduled(callback, state, null, 0), Math.Max(due, Now));

    /// <summary>The time of the next timer or event, or false when none is waiting.</summary>
    public bool TryPeekNext(out long due)
    {
        while (_heap.TryPeek(out var next, out var key))
        {
            if (next.Timer is not { } timer || timer.Version == next.Version)
            {
                due = key.Due;
                return true;
            }

            _heap.Dequeue();
        }

        due = 0;
        return false;
    }

    /// <summary>Moves the clock to the next timer or event and fires it; false when none is waiting.</summary>
    public bool AdvanceToNext()
    {
        while (_heap.TryDequeue(out var next, out var key))
        {
            if (next.Timer is { } timer)
            {
                if (timer.Version != next.Version)
                {
                    continue;
                }

                Now = key.Due;
                timer.Fire();
                return true;
            }

            Now = key.Due;
            next.Callback!(next.State);
            return true;
        }

        return false;
    }

    internal void Arm(VirtualTimer timer, long due, int version) => Enqueue(new Scheduled(null, null, timer, version), due);

    private void Enqueue(Scheduled entry, long due) => _heap.Enqueue(entry, (due, _sequence++));

    private readonly record struct Scheduled(Action<object?>? Callback, object? State, VirtualTimer? Timer, int Version);
}
