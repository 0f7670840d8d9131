using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Overload;
using Sidecar.Routing;

namespace Sidecar.Tests.Overload;

public sealed class ConnectionSlotsTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task ReserveAsync_AtTheCap_WaitsUntilABoundConnectionCloses()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 2), _time);
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
        var slots = new ConnectionSlots(Store(maxConnections: 1), _time);
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
        var slots = new ConnectionSlots(Store(maxConnections: 1), _time);
        Assert.True(slots.TryReserve());
        Assert.False(slots.TryReserve());

        slots.Return();

        Assert.Equal(0, slots.Pending);
        Assert.True(slots.TryReserve());
    }

    [Fact]
    public async Task ReserveAsync_Cancelled_TakesNoSlot()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1), _time);
        Assert.True(slots.TryReserve());
        using var unbound = new CancellationTokenSource();

        var waiting = slots.ReserveAsync(unbound.Token);
        await unbound.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        slots.Return();
        Assert.Equal(0, slots.Pending);
    }

    [Fact]
    public async Task ReserveAsync_AtTheCapHeldByAnIdleConnection_ClosesItAfterIdleConnectionTimeoutAndTakesItsSlot()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1, idleConnectionTimeout: "3s"), _time);
        using var idleClosed = new CancellationTokenSource();
        var idle = new ClosableConnection(idleClosed.Token);
        Assert.True(slots.TryReserve());
        slots.Bind(idle);
        var closedCount = 0;

        var waiting = slots.ReserveAsync(CancellationToken.None, () => closedCount++);

        // Just connected: its request may be on the way.
        Assert.False(waiting.IsCompleted);
        Assert.False(idle.Aborted);
        _time.Advance(TimeSpan.FromSeconds(2.9));
        Assert.False(idle.Aborted);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(idle.Aborted);
        Assert.Equal(1, closedCount);
        Assert.False(waiting.IsCompleted);

        // Its slot comes back once it has closed.
        await idleClosed.CancelAsync();
        await waiting;
        Assert.Equal(1, slots.Pending);
    }

    [Fact]
    public async Task ReserveAsync_AtTheCapHeldByAConnectionThatSentBytes_NeverClosesIt()
    {
        var slots = new ConnectionSlots(Store(maxConnections: 1), _time);
        using var closed = new CancellationTokenSource();
        var sending = new ClosableConnection(closed.Token);
        Assert.True(slots.TryReserve());
        slots.Bind(sending);
        sending.Features.Get<ConnectionSlots.PendingConnection>()!.SentBytes();

        var waiting = slots.ReserveAsync(CancellationToken.None, () => Assert.Fail("closed a connection that had sent bytes"));
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(sending.Aborted);
        Assert.False(waiting.IsCompleted);
        sending.Features.Get<ConnectionSlots.PendingConnection>()!.Read();
        await waiting;
    }

    [Fact]
    public async Task WaitedSinceReceived_FirstRequestStillHeld_HowLongAgoItsBytesReachedTheHost_LaterRequestsZero()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        await client.GetStream().WriteAsync("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok"u8.ToArray());
        using var accepted = await listener.AcceptSocketAsync();
        Assert.True(accepted.Poll(-1, SelectMode.SelectRead));
        // The request's age is what is measured: it sits unread, as in the kernel's accept queue.
        var age = TimeSpan.FromMilliseconds(300);
        await Task.Delay(age);

        var slots = new ConnectionSlots(Store(maxConnections: 1), _time);
        var connection = new ClosableConnection(CancellationToken.None);
        connection.Features.Set<IConnectionSocketFeature>(new SocketFeature(accepted));
        Assert.True(slots.TryReserve());
        slots.Bind(connection);
        var pending = connection.Features.Get<ConnectionSlots.PendingConnection>()!;
        var context = new DefaultHttpContext();
        context.Features.Set(pending);

        var waited = ConnectionSlots.PendingConnection.WaitedSinceReceived(context);
        if (OperatingSystem.IsLinux())
        {
            // tcpi_last_data_recv counts in jiffies (1-10 ms).
            Assert.True(waited >= age - TimeSpan.FromMilliseconds(10), $"waited {waited}, its bytes arrived {age} ago");
        }
        else
        {
            Assert.Equal(TimeSpan.Zero, waited);
        }

        // Its request let in: later requests of the connection count from when Sidecar reads them.
        pending.Read();
        Assert.Equal(TimeSpan.Zero, ConnectionSlots.PendingConnection.WaitedSinceReceived(context));
    }

    private sealed class SocketFeature(Socket socket) : IConnectionSocketFeature
    {
        public Socket Socket { get; } = socket;
    }

    // ConnectionSlots reads only the store's limits, which outlive the harness's metrics.
    private static SidecarConfigStore Store(int maxConnections, string idleConnectionTimeout = "5s")
    {
        using var harness = new RetryHarness(
            $$"""
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c }
            limits:
              max_pending_connections: {{maxConnections}}
              idle_connection_timeout: {{idleConnectionTimeout}}
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

        public bool Aborted { get; private set; }

        public override void Abort(ConnectionAbortedException abortReason) => Aborted = true;
    }
}
