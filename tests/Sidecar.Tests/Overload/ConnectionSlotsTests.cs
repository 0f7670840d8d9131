using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.Overload;
using Sidecar.Routing;

namespace Sidecar.Tests.Overload;

public sealed class ConnectionSlotsTests
{
    [Fact]
    public async Task ReserveAsync_AtTheCap_WaitsUntilABoundConnectionCloses()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 2));
        using var firstClosed = new CancellationTokenSource();
        using var secondClosed = new CancellationTokenSource();
        Assert.True(slots.TryReserve());
        slots.Bind(new ClosableConnection(firstClosed.Token));
        Assert.True(slots.TryReserve());
        slots.Bind(new ClosableConnection(secondClosed.Token));

        var third = slots.ReserveAsync(CancellationToken.None);

        Assert.False(third.IsCompleted);
        Assert.False(slots.TryReserve());
        Assert.Equal(2, slots.Pending);

        await firstClosed.CancelAsync();
        await third;

        Assert.Equal(2, slots.Pending);
        Assert.False(slots.TryReserve());
    }

    [Fact]
    public void FirstRequestRead_FreesTheSlotOnce_AndTheLaterCloseDoesNotFreeItAgain()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1));
        using var closed = new CancellationTokenSource();
        var connection = new ClosableConnection(closed.Token);
        Assert.True(slots.TryReserve());
        slots.Bind(connection);
        var pending = connection.Features.Get<ConnectionSlots.PendingConnection>()!;

        pending.Read();
        pending.Read();
        Assert.Equal(0, slots.Pending);
        Assert.True(slots.TryReserve());
        closed.Cancel();

        Assert.Equal(1, slots.Pending);
    }

    [Fact]
    public void Return_AReservationNoConnectionTook_FreesTheSlot()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1));
        Assert.True(slots.TryReserve());
        Assert.False(slots.TryReserve());

        slots.Return();

        Assert.Equal(0, slots.Pending);
        Assert.True(slots.TryReserve());
    }

    [Fact]
    public async Task ReserveAsync_Cancelled_TakesNoSlot()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1));
        Assert.True(slots.TryReserve());
        using var unbound = new CancellationTokenSource();

        var waiting = slots.ReserveAsync(unbound.Token);
        await unbound.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        slots.Return();
        Assert.Equal(0, slots.Pending);
    }

    // ConnectionSlots reads only the store's limits, which outlive the harness's metrics.
    private static SidecarConfigStore Store(int maxConnections)
    {
        using var harness = new RetryHarness(
            $$"""
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c }
            limits:
              max_pending_connections: {{maxConnections}}
            """);
        return harness.Store;
    }

    private sealed class ClosableConnection : ConnectionContext
    {
        public ClosableConnection(CancellationToken closed)
        {
            ConnectionClosed = closed;
        }

        public override string ConnectionId { get; set; } = "test";

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override System.IO.Pipelines.IDuplexPipe Transport { get; set; } = null!;
    }
}
