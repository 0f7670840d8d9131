using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells when a timer is armed. A test must not advance the clock before
/// the code under test has armed the timer it means to fire (a timer armed after <see cref="FakeTimeProvider.Advance"/>
/// counts from the new time); waiting for the timer removes that race without sleeping.
/// </summary>
public sealed class TimerWatchingTimeProvider : FakeTimeProvider
{
    private readonly ConcurrentDictionary<TimeSpan, TaskCompletionSource> _armed = new();

    /// <summary>Completes once a timer with this due time has been created (or already was).</summary>
    public Task TimerArmedAsync(TimeSpan dueTime) => Armed(dueTime).Task;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        Armed(dueTime).TrySetResult();
        return timer;
    }

    private TaskCompletionSource Armed(TimeSpan dueTime) =>
        _armed.GetOrAdd(dueTime, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
