using Microsoft.Extensions.Time.Testing;
using Sidecar.Overload;
using Sidecar.Routing;

namespace Sidecar.Tests.Overload;

/// <summary>The wait for a slot at <c>max_concurrent_requests</c>: first come, first served, bounded in count and time.</summary>
public sealed class RequestAdmissionTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task WaitToEnterAsync_ARequestEnds_TheLongestWaitingGetsItsSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(out _));
        Assert.False(admission.TryEnter(out var action));
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);

        var first = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        var second = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        Assert.Equal(2, admission.Waiting);
        Assert.False(first.IsCompleted);

        admission.Exit();
        Assert.True(await first);
        Assert.False(second.IsCompleted);
        Assert.Equal(1, admission.InFlight);

        admission.Exit();
        Assert.True(await second);
        Assert.Equal(1, admission.InFlight);
        Assert.Equal(0, admission.Waiting);
    }

    [Fact]
    public async Task WaitToEnterAsync_NoSlotWithinTheWait_FalseAndNoLongerWaiting()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(out _));

        var waiting = admission.WaitToEnterAsync(TimeSpan.FromSeconds(2), CancellationToken.None).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.False(await waiting);
        Assert.Equal(0, admission.Waiting);
        admission.Exit();
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_TwiceMaxPendingConnectionsWaiting_RefusedAtOnce()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 1), _time);
        Assert.True(admission.TryEnter(out _));
        var first = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();
        var second = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        Assert.False(await admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None));

        admission.Exit();
        Assert.True(await first);
        admission.Exit();
        Assert.True(await second);
    }

    [Fact]
    public async Task WaitToEnterAsync_MemoryPressureRejectsRequests_NoSlotHandedOut()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(out _));
        var waiting = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        // Refused at once, not at the end of its wait: it holds its connection's buffer meanwhile.
        admission.SetState(OverloadState.RejectRequests);
        Assert.False(await waiting);
        Assert.Equal(0, admission.Waiting);
        admission.Exit();
        Assert.False(await admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Equal(0, admission.InFlight);
    }

    [Fact]
    public async Task WaitToEnterAsync_CallerLeaves_FalseAndTheNextOneGetsTheSlot()
    {
        var admission = new RequestAdmission(Store(maxConcurrent: 1, maxPending: 4), _time);
        Assert.True(admission.TryEnter(out _));
        using var left = new CancellationTokenSource();
        var leaving = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), left.Token).AsTask();
        var staying = admission.WaitToEnterAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask();

        await left.CancelAsync();
        Assert.False(await leaving);
        admission.Exit();

        Assert.True(await staying);
        Assert.Equal(1, admission.InFlight);
    }

    // RequestAdmission reads only the store's limits, which outlive the harness's metrics.
    private static SidecarConfigStore Store(int maxConcurrent, int maxPending)
    {
        using var harness = new RetryHarness(
            $$"""
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c }
            limits:
              max_concurrent_requests: {{maxConcurrent}}
              max_pending_connections: {{maxPending}}
            """);
        return harness.Store;
    }
}
