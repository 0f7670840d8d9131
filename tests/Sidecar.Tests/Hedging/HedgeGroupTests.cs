using Sidecar.Hedging;

namespace Sidecar.Tests.Hedging;

/// <summary><see cref="HedgeGroup"/>: one winner by compare-and-swap, losers reported, reservations bounded by the attempt limit.</summary>
public sealed class HedgeGroupTests
{
    [Fact]
    public async Task TryClaim_TwoAttempts_OnlyTheFirstWins()
    {
        using var group = new HedgeGroup(2);
        using var first = Attempt(group, 1);
        using var second = Attempt(group, 2);

        Assert.True(group.TryClaim(second));
        Assert.False(group.TryClaim(first));

        Assert.True(group.HasWinner);
        Assert.Same(second, await group.Winner);
    }

    [Fact]
    public void OnFinished_Loser_IsReportedAsFailedAndTheWinnerIsNot()
    {
        using var group = new HedgeGroup(2);
        using var first = Attempt(group, 1);
        using var second = Attempt(group, 2);
        group.OnStarted();
        group.OnStarted();
        Assert.True(group.TryClaim(first));

        group.OnFinished(first);
        group.OnFinished(second);

        Assert.Equal(0, group.InFlight);
        Assert.True(group.Failed.TryRead(out var failed));
        Assert.Same(second, failed);
        Assert.False(group.Failed.TryRead(out _));
    }

    [Fact]
    public void TryReserveNext_TwoFailuresForTheLastSlot_OnlyOneReserves()
    {
        using var group = new HedgeGroup(2);
        group.OnStarted();

        Assert.True(group.TryReserveNext());
        Assert.False(group.TryReserveNext());
        Assert.True(group.CanStartMore);
    }

    [Fact]
    public void OnStarted_ConsumesAReservation_NoSlotLeftAfterTheLimit()
    {
        using var group = new HedgeGroup(2);
        group.OnStarted();
        Assert.True(group.TryReserveNext());

        group.OnStarted();

        Assert.Equal(2, group.Started);
        Assert.False(group.CanStartMore);
        Assert.False(group.TryReserveNext());
    }

    [Fact]
    public async Task NextEventAsync_SignalBeforeTheWait_CompletesAtOnceAndOnlyOnce()
    {
        using var group = new HedgeGroup(2);

        group.Signal();

        await group.NextEventAsync().WaitAsync(TimeSpan.FromSeconds(30));
        var next = group.NextEventAsync();
        Assert.False(next.IsCompleted);
        group.Signal();
        await next.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void ArmDelay_ReplacedBeforeItFires_OnlyTheNewDelayCounts()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var group = new HedgeGroup(3);
        group.OnStarted();
        group.ArmDelay(time, TimeSpan.FromMilliseconds(50));
        time.Advance(TimeSpan.FromMilliseconds(30));
        group.OnStarted();
        group.ArmDelay(time, TimeSpan.FromMilliseconds(50));

        time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.False(group.TakeDelayElapsed());
        time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.True(group.TakeDelayElapsed());
        Assert.False(group.TakeDelayElapsed());
    }

    [Fact]
    public void ArmDelay_NoAttemptLeftToStart_NoTimer()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        using var group = new HedgeGroup(1);
        group.OnStarted();

        group.ArmDelay(time, TimeSpan.FromMilliseconds(50));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(group.TakeDelayElapsed());
    }

    private static HedgeAttempt Attempt(HedgeGroup group, int number) =>
        new(number, group, request: null!, destination: number - 1);
}
