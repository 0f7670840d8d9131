using Sidecar.Hedging;

namespace Sidecar.Tests.Hedging;

/// <summary><see cref="HedgeGroup"/>: one winner by compare-and-swap, losers reported, reservations bounded by the attempt limit.</summary>
public sealed class HedgeGroupTests
{
    [Fact]
    public async Task TryClaim_TwoAttempts_OnlyTheFirstWins()
    {
        var group = new HedgeGroup(2);
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
        var group = new HedgeGroup(2);
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
        var group = new HedgeGroup(2);
        group.OnStarted();

        Assert.True(group.TryReserveNext());
        Assert.False(group.TryReserveNext());
        Assert.True(group.CanStartMore);
    }

    [Fact]
    public void OnStarted_ConsumesAReservation_NoSlotLeftAfterTheLimit()
    {
        var group = new HedgeGroup(2);
        group.OnStarted();
        Assert.True(group.TryReserveNext());

        group.OnStarted();

        Assert.Equal(2, group.Started);
        Assert.False(group.CanStartMore);
        Assert.False(group.TryReserveNext());
    }

    private static HedgeAttempt Attempt(HedgeGroup group, int number) =>
        new(number, group, request: null!, destination: number - 1);
}
