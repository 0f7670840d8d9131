using Microsoft.Extensions.Time.Testing;
using Sidecar.Overload;
using Sidecar.Routing;

namespace Sidecar.Tests.Overload;

/// <summary>
/// The wait for a slot at <c>max_concurrent_requests</c> or for buffer room: first come, first served, bounded in count
/// and time.
/// </summary>
public sealed class RequestAdmissionTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task WaitToEnterAsync_ARequestEnds_TheLongestWaitingGetsItsSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, out _));
        Assert.False(admission.TryEnter(null, out var action));
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);

        var first = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        var second = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        Assert.Equal(2, admission.Waiting);
        Assert.False(first.IsCompleted);

        admission.Exit(null);
        Assert.True(await first);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, admission.InFlight);

        admission.Exit(null);
        Assert.True(await second);
        Assert.Equal(1, admission.InFlight);
        Assert.Equal(0, admission.Waiting);
    }

    [Fact]
    public async Task WaitToEnterAsync_NoSlotWithinTheWait_FalseAndNoLongerWaiting()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, out _));

        var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(2), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.False(await waiting);
        Assert.Equal(0, admission.Waiting);
        admission.Exit(null);
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_TwiceMaxPendingConnectionsWaiting_RefusedAtOnce()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 1), _time);
        Assert.True(admission.TryEnter(null, out _));
        var first = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        var second = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        Assert.False(await admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None));

        admission.Exit(null);
        Assert.True(await first);
        admission.Exit(null);
        Assert.True(await second);
    }

    [Fact]
    public async Task WaitToEnterAsync_MemoryPressureRejectsRequests_NoSlotHandedOutNoneJoinsAndTheWaitingOneLetInOncePressureFalls()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, out _));
        var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        admission.SetState(OverloadState.RejectRequests);
        admission.Exit(null);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, admission.InFlight);
        Assert.False(await admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None));

        // The pressure falls: the free slot goes to the waiting request at once, not at the next request's end.
        admission.SetState(OverloadState.StopBuffering);
        Assert.True(await waiting);
        Assert.Equal(1, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_MemoryPressureStopsAccepting_WaitingOnesRefusedAtOnce()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, out _));
        var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        // Refused at once, not at the end of its wait: it holds its connection's buffer meanwhile.
        admission.SetState(OverloadState.StopAccepting);
        Assert.False(await waiting);
        Assert.Equal(0, admission.Waiting);
        admission.Exit(null);
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public void TryEnter_OneRouteHoldsItsCeiling_RefusedWhileAnotherRouteTakesTheReservedSlot()
    {
        var store = Store(maxConcurrent: 4, maxPending: 4, routes: 2);
        var admission = new RequestAdmission(store, _time);
        var slow = store.RouteTable.Find("r")!.InFlight;
        var other = store.RouteTable.Find("r2")!.InFlight;
        Assert.Equal(3, RequestAdmission.RouteCeiling(4, 2));

        for (var i = 0; i < 3; i++)
        {
            Assert.True(admission.TryEnter(slow, out _));
        }

        Assert.False(admission.TryEnter(slow, out var action));
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);
        Assert.Equal(3, slow.Count);
        Assert.True(admission.TryEnter(other, out _));
        Assert.Equal(4, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_TheOldestWaiterIsAtItsRouteCeiling_TheSlotGoesToTheNextRoute()
    {
        var store = Store(maxConcurrent: 4, maxPending: 4, routes: 2);
        var admission = new RequestAdmission(store, _time);
        var slow = store.RouteTable.Find("r")!.InFlight;
        var other = store.RouteTable.Find("r2")!.InFlight;
        for (var i = 0; i < 3; i++)
        {
            Assert.True(admission.TryEnter(slow, out _));
        }

        Assert.True(admission.TryEnter(other, out _));
        var slowWaiting = admission.WaitToEnterAsync(slow, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        var otherWaiting = admission.WaitToEnterAsync(other, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        // The other route's request ends: its slot would take the slow route past its ceiling, so it skips the queue's head.
        admission.Exit(other);
        Assert.True(await otherWaiting);
        Assert.False(slowWaiting.IsCompleted);

        admission.Exit(slow);
        Assert.True(await slowWaiting);
        Assert.Equal(3, slow.Count);
        Assert.Equal(1, other.Count);
    }

    [Theory]
    [InlineData(332, 1, 332)]
    [InlineData(332, 2, 291)]
    [InlineData(4, 2, 3)]
    [InlineData(1, 3, 1)]
    public void RouteCeiling_SharesOfTheSlots(int maxConcurrent, int routes, int ceiling) =>
        Assert.Equal(ceiling, RequestAdmission.RouteCeiling(maxConcurrent, routes));

    [Fact]
    public async Task WaitToEnterAsync_CallerLeaves_FalseAndTheNextOneGetsTheSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, out _));
        using var left = new CancellationTokenSource();
        var leaving = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), left.Token).AsTask();
        var staying = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        await left.CancelAsync();
        Assert.False(await leaving);
        admission.Exit(null);

        Assert.True(await staying);
        Assert.Equal(1, admission.InFlight);
    }

    [Fact]
    public async Task TryEnter_NoBufferRoomForTheHead_ItWaitsAndNoLaterArrivalTakesTheFreeSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 4, maxPending: 4), _time);
        var first = admission.TryEnter(null, 60, out _);
        Assert.Equal(new AdmissionEntry(true, 60, CopyShed: false), first);
        admission.SetState(OverloadState.StopBuffering);

        // A slot is free, but memory is short and 120 bytes of copies are more than the 60 held when it became so.
        Assert.False(admission.TryEnter(null, 60, out var action).Admitted);
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);
        var head = admission.WaitToEnterAsync(null, 60, TimeSpan.FromSeconds(5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.False(head.IsCompleted);

        // A later request that wants no copy queues behind it rather than take the free slot.
        Assert.False(admission.TryEnter(null, 0, out action).Admitted);
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);
        var later = admission.WaitToEnterAsync(null, 0, TimeSpan.FromSeconds(5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.False(later.IsCompleted);
        Assert.Equal(1, admission.InFlight);

        // The first copy is given back: the head goes in with its room, then the one behind it.
        admission.Exit(null, first.CopyBytes);
        Assert.Equal(new AdmissionEntry(true, 60, CopyShed: false), await head);
        Assert.Equal(new AdmissionEntry(true, 0, CopyShed: false), await later);
        Assert.Equal(2, admission.InFlight);
        Assert.Equal(60, admission.Reserved);
    }

    [Fact]
    public async Task WaitToEnterAsync_StopBuffering_CopiesHeldAreReplacedAsTheyEndNotAddedTo()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 4, maxPending: 4), _time);
        var held = admission.TryEnter(null, 60, out _);
        Assert.True(held.Admitted);

        admission.SetState(OverloadState.StopBuffering);
        Assert.False(admission.TryEnter(null, 60, out _).Admitted);
        var waiting = admission.WaitToEnterAsync(null, 60, TimeSpan.FromSeconds(5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        admission.Exit(null, held.CopyBytes);
        Assert.Equal(new AdmissionEntry(true, 60, CopyShed: false), await waiting);
        Assert.Equal(60, admission.Reserved);
    }

    [Fact]
    public async Task WaitToEnterAsync_PressureFallsBelowStopBuffering_TheWaitingCopyGoesInAtOnce()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 4, maxPending: 4), _time);
        Assert.True(admission.TryEnter(null, 60, out _).Admitted);
        admission.SetState(OverloadState.StopBuffering);
        var waiting = admission.WaitToEnterAsync(null, 60, TimeSpan.FromSeconds(5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        admission.SetState(OverloadState.Normal);
        Assert.Equal(new AdmissionEntry(true, 60, CopyShed: false), await waiting);
        Assert.Equal(120, admission.Reserved);
    }

    [Fact]
    public void TryEnter_StopBufferingAndNoCopyHeld_LetInWithoutItsCopy()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 4, maxPending: 4), _time);
        admission.SetState(OverloadState.StopBuffering);

        // No copy in flight will end to make room: waiting would only run out its time.
        Assert.Equal(new AdmissionEntry(true, 0, CopyShed: true), admission.TryEnter(null, 60, out _));
        Assert.Equal(0, admission.Reserved);
    }

    [Fact]
    public async Task WaitToEnterAsync_TheHeadWithoutRoomTimesOut_TheNextOneGetsTheFreeSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 4, maxPending: 4), _time);
        var held = admission.TryEnter(null, 60, out _);
        admission.SetState(OverloadState.StopBuffering);
        var head = admission.WaitToEnterAsync(null, 60, TimeSpan.FromSeconds(1), isDeadline: false, CancellationToken.None).AsTask();
        var next = admission.WaitToEnterAsync(null, 0, TimeSpan.FromSeconds(5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False((await head).Admitted);
        Assert.Equal(new AdmissionEntry(true, 0, CopyShed: false), await next);
        Assert.Equal(held.CopyBytes, admission.Reserved);
        Assert.Equal(0, admission.Waiting);
    }

    [Fact]
    public async Task WaitToEnterAsync_ExpectedWaitPastItsBound_RefusedAtOnceWhileOthersStillJoin()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 16), _time);
        Assert.True(admission.TryEnter(null, out _));
        await MoveTheLineAsync(admission, handOffs: LineDrainRate.MinHandOffs + 1, every: TimeSpan.FromSeconds(1));

        // One a second: three ahead means four seconds.
        var waiting = Enumerable.Range(0, 3).Select(_ => admission.WaitToEnterAsync(null, TimeSpan.FromMinutes(1), CancellationToken.None).AsTask()).ToList();
        var refused = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(3.5), CancellationToken.None);

        Assert.True(refused.IsCompleted);
        Assert.False(await refused);
        Assert.Equal(3, admission.Waiting);
        waiting.Add(admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(4), CancellationToken.None).AsTask());
        Assert.Equal(4, admission.Waiting);

        // First come, first served, as before.
        for (var i = 0; i < waiting.Count; i++)
        {
            admission.Exit(null);
            Assert.True(await waiting[i]);
        }
    }

    [Fact]
    public async Task WaitToEnterAsync_Deadline_ExpectedWaitAndTimeInFlightTogetherPastIt_RefusedAtOnce()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 16), _time);
        Assert.True(admission.TryEnter(null, out _));
        await MoveTheLineAsync(admission, handOffs: LineDrainRate.MinHandOffs + 1, every: TimeSpan.FromSeconds(1));

        // A slot in a second, then a second in flight (one in flight, one handed over a second): 2 s to its answer.
        var deadline = await admission.WaitToEnterAsync(null, 0, TimeSpan.FromSeconds(1.5), isDeadline: true, CancellationToken.None);
        Assert.False(deadline.Admitted);
        Assert.Equal(0, admission.Waiting);

        var waitOnly = admission.WaitToEnterAsync(null, 0, TimeSpan.FromSeconds(1.5), isDeadline: false, CancellationToken.None).AsTask();
        Assert.Equal(1, admission.Waiting);
        admission.Exit(null);
        Assert.True((await waitOnly).Admitted);
    }

    [Fact]
    public async Task WaitToEnterAsync_TheLineStalls_RefusedOnceItCanNoLongerMakeItBeforeItsBound()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 16), _time);
        Assert.True(admission.TryEnter(null, out _));
        await MoveTheLineAsync(admission, handOffs: LineDrainRate.MinHandOffs + 1, every: TimeSpan.FromSeconds(1));

        var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        Assert.Equal(1, admission.Waiting);

        // No slot frees. After x seconds the line has moved 10 in 10 + x s (its 10 s window), and the wait has 5 - x s
        // left: from x = 3.64 on it cannot make it, and the next check (every 250 ms) refuses it, before its 5 s are up.
        var waited = TimeSpan.Zero;
        while (admission.Waiting > 0 && waited < TimeSpan.FromSeconds(5))
        {
            _time.Advance(RequestAdmission.PruneInterval);
            waited += RequestAdmission.PruneInterval;
        }

        Assert.False(await waiting);
        Assert.InRange(waited, TimeSpan.FromSeconds(3.5), TimeSpan.FromSeconds(4));
        Assert.Equal(1, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_MemoryPressureHoldsTheLine_NotRefusedForTheTimeItStandsStill()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 16), _time);
        Assert.True(admission.TryEnter(null, out _));
        await MoveTheLineAsync(admission, handOffs: LineDrainRate.MinHandOffs + 1, every: TimeSpan.FromSeconds(1));
        var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        // Stalled by a slow line it would be refused after 3.75 s (above); held by memory pressure, the line keeps its
        // measured rate (one a second), and the request its place while a second is left.
        admission.SetState(OverloadState.RejectRequests);
        for (var i = 0; i < 15; i++)
        {
            _time.Advance(RequestAdmission.PruneInterval);
        }

        Assert.Equal(1, admission.Waiting);
        admission.SetState(OverloadState.Normal);
        admission.Exit(null);
        Assert.True(await waiting);
    }

    [Fact]
    public async Task WaitToEnterAsync_NoRateMeasuredYet_WaitsItsWholeBound()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 16), _time);
        Assert.True(admission.TryEnter(null, out _));
        var waiting = Enumerable.Range(0, 8).Select(_ => admission.WaitToEnterAsync(null, TimeSpan.FromSeconds(2), CancellationToken.None).AsTask()).ToList();
        Assert.Equal(8, admission.Waiting);

        _time.Advance(TimeSpan.FromSeconds(1.75));
        Assert.Equal(8, admission.Waiting);
        _time.Advance(TimeSpan.FromSeconds(0.25));

        foreach (var wait in waiting)
        {
            Assert.False(await wait);
        }

        Assert.Equal(0, admission.Waiting);
    }

    /// <summary>
    /// The request in flight ends every <paramref name="every"/> and hands its slot to one that waited for it: the line
    /// is measured moving at one per <paramref name="every"/>.
    /// </summary>
    private async Task MoveTheLineAsync(RequestAdmission admission, int handOffs, TimeSpan every)
    {
        for (var i = 0; i < handOffs; i++)
        {
            var waiting = admission.WaitToEnterAsync(null, TimeSpan.FromMinutes(1), CancellationToken.None).AsTask();
            _time.Advance(every);
            admission.Exit(null);
            Assert.True(await waiting);
        }
    }

    // RequestAdmission reads only the store's limits, which outlive the harness's metrics.
    private static SidecarConfigStore Store(int maxConcurrent, int maxPending, int routes = 1)
    {
        using var harness = new RetryHarness(
            $$"""
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c, match: { path: /r } }
            {{(routes > 1 ? "  - { name: r2, cluster: c, match: { path: /r2 } }" : "")}}
            {{(routes > 2 ? "  - { name: r3, cluster: c, match: { path: /r3 } }" : "")}}
            limits:
              max_concurrent_requests: {{maxConcurrent}}
              max_pending_connections: {{maxPending}}
            """);
        return harness.Store;
    }
}
