using Microsoft.Extensions.Time.Testing;

namespace Sidecar.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells when a timer is armed: a test must not move the clock before the code
/// under test has armed the timer it means to fire (a timer armed after <see cref="FakeTimeProvider.Advance"/>
/// counts from the new time), and waiting for it removes that race without sleeping.
/// </summary>
internal sealed class WatchedClock : FakeTimeProvider
{
    private readonly List<(TimeSpan DueTime, int Count, TaskCompletionSource Armed)> _waiters = [];
    private readonly Dictionary<TimeSpan, int> _armed = [];

    public WatchedClock()
        : base(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    /// <summary>Completes once <paramref name="count"/> timers due in <paramref name="dueTime"/> have been armed in all.</summary>
    public Task ArmedAsync(TimeSpan dueTime, int count = 1)
    {
        lock (_waiters)
        {
            if (_armed.GetValueOrDefault(dueTime) >= count)
            {
                return Task.CompletedTask;
            }

            var armed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((dueTime, count, armed));
            return armed.Task;
        }
    }

    /// <summary>How many timers due in <paramref name="dueTime"/> have been armed so far.</summary>
    public int ArmedCount(TimeSpan dueTime)
    {
        lock (_waiters)
        {
            return _armed.GetValueOrDefault(dueTime);
        }
    }

    /// <summary>Waits for the <paramref name="count"/>th timer due in <paramref name="dueTime"/>, then moves the clock that far.</summary>
    public async Task AdvanceWhenArmedAsync(TimeSpan dueTime, int count = 1)
    {
        await ArmedAsync(dueTime, count).WaitAsync(TimeSpan.FromSeconds(30));
        Advance(dueTime);
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_waiters)
        {
            var count = _armed[dueTime] = _armed.GetValueOrDefault(dueTime) + 1;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].DueTime == dueTime && _waiters[i].Count <= count)
                {
                    _waiters[i].Armed.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        return timer;
    }
}
