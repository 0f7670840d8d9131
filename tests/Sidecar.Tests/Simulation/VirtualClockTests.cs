using Sidecar.Simulation;

namespace Sidecar.Tests.Simulation;

/// <summary><see cref="VirtualClock"/> and <see cref="SimulationLoop"/>: time jumps from timer to timer, in order, on one thread.</summary>
public sealed class VirtualClockTests
{
    [Fact]
    public void AdvanceToNext_TimersAndEvents_FireInDueOrderAtTheirTime()
    {
        var clock = new VirtualClock();
        var fired = new List<(string Name, TimeSpan At)>();
        using var late = clock.CreateTimer(_ => fired.Add(("timer 30ms", clock.Elapsed)), null, TimeSpan.FromMilliseconds(30), Timeout.InfiniteTimeSpan);
        clock.Schedule(TimeSpan.FromMilliseconds(10).Ticks, _ => fired.Add(("event 10ms", clock.Elapsed)), null);
        using var early = clock.CreateTimer(_ => fired.Add(("timer 20ms", clock.Elapsed)), null, TimeSpan.FromMilliseconds(20), Timeout.InfiniteTimeSpan);

        while (clock.AdvanceToNext())
        {
        }

        Assert.Equal(
            [("event 10ms", TimeSpan.FromMilliseconds(10)), ("timer 20ms", TimeSpan.FromMilliseconds(20)), ("timer 30ms", TimeSpan.FromMilliseconds(30))],
            fired);
    }

    [Fact]
    public void AdvanceToNext_TimerDisposedOrChanged_OldScheduleNeverFires()
    {
        var clock = new VirtualClock();
        var fired = new List<TimeSpan>();
        var disposed = clock.CreateTimer(_ => fired.Add(TimeSpan.MinValue), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using var moved = clock.CreateTimer(_ => fired.Add(clock.Elapsed), null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        disposed.Dispose();
        moved.Change(TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);

        while (clock.AdvanceToNext())
        {
        }

        Assert.Equal([TimeSpan.FromSeconds(3)], fired);
    }

    [Fact]
    public void Run_TaskDelayAndCancellationOnTheClock_CompleteAtVirtualTimeOnTheLoopThread()
    {
        var clock = new VirtualClock();
        var loop = new SimulationLoop(clock);
        var thread = Environment.CurrentManagedThreadId;
        var seen = new List<(string, TimeSpan, int)>();

        loop.Run(
            () =>
            {
                _ = DelayAsync();
                _ = CancelledAsync();
            },
            until: long.MaxValue);

        Assert.Equal([("cancelled", TimeSpan.FromMilliseconds(500), thread), ("delayed", TimeSpan.FromHours(1), thread)], seen);

        async Task DelayAsync()
        {
            await Task.Delay(TimeSpan.FromHours(1), clock);
            seen.Add(("delayed", clock.Elapsed, Environment.CurrentManagedThreadId));
        }

        async Task CancelledAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(500), clock);
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, clock, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                seen.Add(("cancelled", clock.Elapsed, Environment.CurrentManagedThreadId));
            }
        }
    }

    [Fact]
    public void Run_NextTimerPastTheLimit_StopsWithoutFiringIt()
    {
        var clock = new VirtualClock();
        var loop = new SimulationLoop(clock);
        var fired = false;

        loop.Run(() => clock.Schedule(TimeSpan.FromMinutes(2).Ticks, _ => fired = true, null), until: TimeSpan.FromMinutes(1).Ticks);

        Assert.False(fired);
        Assert.Equal(TimeSpan.Zero, clock.Elapsed);
    }
}
