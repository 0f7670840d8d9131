using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Overload;

namespace Sidecar.FunctionalTests.Overload;

/// <summary>
/// The overload manager's protections, driven through the real Sidecar with the memory-pressure source replaced, so
/// no test has to fill memory: each test sets a pressure, waits for the state it leads to, and talks real HTTP.
/// </summary>
public sealed class OverloadTests
{
    private const double Low = 0.1;
    private const double StopBuffering = 0.65;
    private const double RejectRequests = 0.8;
    private const double StopAccepting = 0.95;

    private static string Config(string destination, string limits = "") => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 2
            backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            retry_on: { status: [503] }
            methods: [GET, POST]
            timeout: 10s
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        limits:
          overload: { check_interval: 20ms }
        {{limits}}
        """;

    [Fact]
    public async Task RejectRequests_NewRequest_Gets503ProblemWithRetryAfterUntilPressureFalls()
    {
        using var upstream = ScriptedUpstream.Status(200);
        var pressure = new SettablePressure();
        await using var sidecar = await StartAsync(Config(upstream.Url), pressure);

        await SetPressureAsync(sidecar, pressure, RejectRequests, OverloadState.RejectRequests);
        using (var response = await sidecar.Proxy.GetAsync("/a"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("overloaded", problem.RootElement.GetProperty("reason").GetString());
            Assert.Equal(503, problem.RootElement.GetProperty("status").GetInt32());
            Assert.Equal("r", problem.RootElement.GetProperty("route").GetString());
        }

        Assert.Equal(0, upstream.Count);
        using (var readyz = await sidecar.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz.StatusCode);
            Assert.Equal("overloaded\n", await readyz.Content.ReadAsStringAsync());
        }

        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(2, PrometheusText.Value(metrics, "sidecar_overload_state"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_overload_shed_total", "action=request_rejected"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_requests_total", "route=r", "outcome=overloaded"));
        Assert.True(sidecar.Logs.Contains("Overload: Normal -> RejectRequests"));

        await SetPressureAsync(sidecar, pressure, Low, OverloadState.Normal);
        using (var response = await sidecar.Proxy.GetAsync("/a"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_state"));
        Assert.Equal("ready\n", await sidecar.Admin.GetStringAsync("/readyz"));
        Assert.True(sidecar.Logs.Contains("Overload: RejectRequests -> Normal"));
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task RejectRequests_Http11UploadThatFitsTheReceiveBuffer_IsAnsweredThenItsConnectionClosedCleanly()
    {
        using var upstream = ScriptedUpstream.Status(200);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var rejecting = await RejectingConnection.OpenAsync(upstream.Url, timeout.Token);
        var stream = rejecting.Stream;

        await rejecting.WriteAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 61440\r\n\r\n", new byte[60 * 1024], timeout.Token);
        var response = await RawHttp.ReadResponseAsync(stream, timeout.Token);

        Assert.Equal(503, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.Contains("\"overloaded\"", response.Body, StringComparison.Ordinal);
        // A clean close, not a reset: the body was read before the answer, so no unread byte is left behind.
        Assert.Equal(0, await stream.ReadAsync(new byte[1], timeout.Token));
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task RejectRequests_Http11UploadLargerThanTheReceiveBuffer_KeepsItsConnectionForTheNextRequest()
    {
        using var upstream = ScriptedUpstream.Status(200);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var rejecting = await RejectingConnection.OpenAsync(upstream.Url, timeout.Token);
        var stream = rejecting.Stream;

        var upload = rejecting.WriteAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 262144\r\n\r\n", new byte[256 * 1024], timeout.Token);
        var first = await RawHttp.ReadResponseAsync(stream, timeout.Token);
        await upload;

        Assert.Equal(503, first.Status);
        Assert.Null(first.Header("Connection"));
        Assert.False(first.ServerClosed);
        // Kestrel drained the rest of the body, so the connection serves a second request.
        await rejecting.WriteAsync("GET /next HTTP/1.1\r\nHost: x\r\n\r\n", [], timeout.Token);
        var second = await RawHttp.ReadResponseAsync(stream, timeout.Token);
        Assert.Equal(503, second.Status);
        Assert.Equal("close", second.Header("Connection"));
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task RejectRequests_Http11UploadThatStalls_IsAnsweredWithoutItAndKeepsItsConnection()
    {
        using var upstream = ScriptedUpstream.Status(200);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var rejecting = await RejectingConnection.OpenAsync(upstream.Url, timeout.Token);
        var stream = rejecting.Stream;

        // 10 of the 1,000 bytes promised, then nothing: the answer must not wait for the rest.
        await rejecting.WriteAsync("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789", [], timeout.Token);
        var response = await RawHttp.ReadResponseAsync(stream, timeout.Token);

        Assert.Equal(503, response.Status);
        Assert.Null(response.Header("Connection"));
        Assert.False(response.ServerClosed);
        // Kestrel drains the rest, and the connection serves the next request.
        await rejecting.WriteAsync(string.Empty, new byte[990], timeout.Token);
        await rejecting.WriteAsync("GET /next HTTP/1.1\r\nHost: x\r\n\r\n", [], timeout.Token);
        Assert.Equal(503, (await RawHttp.ReadResponseAsync(stream, timeout.Token)).Status);
        Assert.Equal(0, upstream.Count);
        rejecting.Sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task RejectRequests_GrpcCaller_GetsResourceExhaustedTrailersOnly()
    {
        using var upstream = ScriptedUpstream.Status(200);
        var pressure = new SettablePressure();
        await using var sidecar = await StartAsync(
            "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n  proxy_protocol: h2c\n" + Config(upstream.Url),
            pressure);
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = sidecar.ProxyAddress };

        await SetPressureAsync(sidecar, pressure, RejectRequests, OverloadState.RejectRequests);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/greet.Greeter/SayHello")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        using var response = await client.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(new Version(2, 0), response.Version);
        Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("8", Assert.Single(response.Headers.GetValues("grpc-status")));
        Assert.Contains("overloaded", Assert.Single(response.Headers.GetValues("grpc-message")), StringComparison.Ordinal);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task StopBuffering_RetryablePost_IsForwardedOnceAndTheSkippedRetryCounted()
    {
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            // 503 to every first attempt: each request needs its body replayed to succeed.
            context.Response.StatusCode = context.Request.Headers["x-sidecar-attempt"] == "1" ? 503 : 200;
            await context.Response.WriteAsync("done");
        });
        var pressure = new SettablePressure();
        await using var sidecar = await StartAsync(Config(upstream.Url), pressure);

        await SetPressureAsync(sidecar, pressure, StopBuffering, OverloadState.StopBuffering);
        using (var response = await sidecar.Proxy.PostAsync("/upload", new StringContent("payload")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        }

        Assert.Equal(1, upstream.Count);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_overload_state"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_overload_shed_total", "action=body_not_buffered"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=r", "reason=overloaded"));

        // A request without a body has nothing to buffer and is still retried.
        using (var response = await sidecar.Proxy.GetAsync("/read"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await SetPressureAsync(sidecar, pressure, Low, OverloadState.Normal);
        using (var response = await sidecar.Proxy.PostAsync("/upload", new StringContent("payload")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal("payload", System.Text.Encoding.UTF8.GetString(upstream.Snapshot()[^1].Body));
        Assert.Equal(1, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=body_not_buffered"));
    }

    [Fact]
    public async Task StopAccepting_NewConnection_IsHeldUnreadAndServedOncePressureFalls()
    {
        using var upstream = ScriptedUpstream.Status(200);
        var pressure = new SettablePressure();
        await using var sidecar = await StartAsync(Config(upstream.Url), pressure);

        await SetPressureAsync(sidecar, pressure, StopAccepting, OverloadState.StopAccepting);
        var exchange = RawHttp.ExchangeAsync(sidecar.ProxyAddress, "GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", within: TimeSpan.FromSeconds(30));
        // The admin port still answers: probes and scrapes see the state.
        Assert.Equal(3, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_state"));
        Assert.False(exchange.IsCompleted);
        Assert.Equal(0, upstream.Count);

        await SetPressureAsync(sidecar, pressure, Low, OverloadState.Normal);
        var response = await exchange;

        Assert.Equal(200, response.Status);
        Assert.Equal(1, upstream.Count);
        Assert.True(PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=connection_held") >= 1);
        Assert.True(sidecar.Logs.Contains("Overload: Normal -> StopAccepting"));
    }

    [Fact]
    public async Task MaxConcurrentRequests_OneMoreInFlight_WaitsForTheSlotAndIsServed()
    {
        await using var upstream = await HeldUpstream.StartAsync("/slow");
        await using var sidecar = await StartAsync(Config(upstream.Url, "  max_concurrent_requests: 1"), new SettablePressure());

        var first = sidecar.Proxy.GetAsync("/slow");
        await upstream.Arrived;
        var second = sidecar.Proxy.GetAsync("/fast");
        await Eventually.ReturnsAsync(
            async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=request_queued"),
            value => value >= 1,
            TimeSpan.FromSeconds(30),
            "the second request waiting for a slot");
        Assert.False(second.IsCompleted);

        upstream.Release();
        using (var response = await first)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await second)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=concurrency_limit"));
    }

    [Fact]
    public async Task MaxConcurrentRequests_OneInFlightOneWaiting_TheNextConnectionWaitsUnreadAndAllAreServed()
    {
        await using var upstream = await HeldUpstream.StartAsync();
        // One slot, and one pending connection: a first request waiting for a slot keeps its connection pending (its
        // body may still be unread), so the next connection waits in the accept queue instead of being answered 503.
        await using var sidecar = await StartAsync(Config(upstream.Url, "  max_concurrent_requests: 1\n  max_pending_connections: 1"), new SettablePressure());

        var first = sidecar.Proxy.GetAsync("/slow");
        await upstream.Arrived;
        var waiting = sidecar.Proxy.GetAsync("/waiting");
        await Eventually.ReturnsAsync(
            async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=request_queued"),
            value => value >= 1,
            TimeSpan.FromSeconds(30),
            "a request waiting for a slot");
        var third = RawHttp.ExchangeAsync(sidecar.ProxyAddress, "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", within: TimeSpan.FromSeconds(60));
        await Eventually.ReturnsAsync(
            async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=connection_limit"),
            value => value >= 1,
            TimeSpan.FromSeconds(30),
            "the third connection waiting unread for the waiting request's slot");
        Assert.False(third.IsCompleted);

        upstream.Release();
        using (var response = await first)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await waiting)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(200, (await third).Status);
        Assert.Equal(0, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=concurrency_limit"));
        using var config = JsonDocument.Parse(await sidecar.Admin.GetStringAsync("/config"));
        var limits = config.RootElement.GetProperty("limits");
        Assert.Equal(1, limits.GetProperty("max_concurrent_requests").GetInt32());
        Assert.Equal("config", limits.GetProperty("origin").GetProperty("max_concurrent_requests").GetString());
        Assert.StartsWith("derived from ", limits.GetProperty("origin").GetProperty("max_buffered_bytes").GetString(), StringComparison.Ordinal);
        Assert.Equal(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, limits.GetProperty("memory").GetProperty("available_bytes").GetInt64());
    }

    [Fact]
    public async Task MaxPendingConnections_OneMoreConnection_WaitsUnreadUntilThePendingOneIsRead()
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await StartAsync(Config(upstream.Url, "  max_pending_connections: 1"), new SettablePressure());

        // Connected, half its request line sent: accepted with bytes unread, so it holds the one slot.
        using var silent = new System.Net.Sockets.TcpClient();
        await silent.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
        var stream = silent.GetStream();
        await stream.WriteAsync("GET /fir"u8.ToArray());
        var waiting = RawHttp.ExchangeAsync(sidecar.ProxyAddress, "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", within: TimeSpan.FromSeconds(30));
        await Eventually.ReturnsAsync(
            async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=connection_limit"),
            value => value >= 1,
            TimeSpan.FromSeconds(30),
            "the accept loop waiting for a pending-connection slot");
        // The admin port answers while the proxy port waits.
        Assert.Equal(HttpStatusCode.OK, (await sidecar.Admin.GetAsync("/healthz")).StatusCode);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(0, upstream.Count);

        await stream.WriteAsync("st HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(stream, CancellationToken.None)).Status);
        var response = await waiting;

        Assert.Equal(200, response.Status);
        // Once read, the first connection holds no slot while it idles: a third connection is served at once.
        Assert.Equal(200, (await RawHttp.ExchangeAsync(sidecar.ProxyAddress, "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", within: TimeSpan.FromSeconds(30))).Status);
        Assert.Equal(3, upstream.Count);
        using var config = JsonDocument.Parse(await sidecar.Admin.GetStringAsync("/config"));
        var limits = config.RootElement.GetProperty("limits");
        Assert.Equal(1, limits.GetProperty("max_pending_connections").GetInt32());
        Assert.Equal("config", limits.GetProperty("origin").GetProperty("max_pending_connections").GetString());
    }

    [LinuxFact(MinSomaxconn = OverloadServiceCollectionExtensions.ListenBacklog)]
    public async Task MaxPendingConnections_BurstPastDotNetsDefaultBacklog_EveryConnectionWaitsInTheAcceptQueue()
    {
        // .NET listens with a backlog of 512: the connection attempts past it were dropped, and the callers' kernels
        // retried them unseen for up to half a minute.
        const int DotNetDefaultBacklog = 512;
        const int Burst = 600;
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await StartAsync(Config(upstream.Url, "  max_pending_connections: 1"), new SettablePressure());
        using var holder = new System.Net.Sockets.TcpClient();
        await holder.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
        await holder.GetStream().WriteAsync("GET /fir"u8.ToArray());
        // Accepted, with half its request line unread: it holds the one pending slot.
        await Eventually.ReturnsAsync(() => Task.FromResult(AcceptQueueLength(sidecar.ProxyAddress.Port)), length => length == 0, TimeSpan.FromSeconds(30), "the first connection accepted");

        var burst = new List<System.Net.Sockets.TcpClient>();
        try
        {
            var connects = new List<Task>();
            for (var i = 0; i < Burst; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                burst.Add(client);
                connects.Add(client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port));
            }

            // Each caller's connect completes on the listener's SYN-ACK; with a full queue the kernel then drops the
            // handshake's last ACK, and the connection is not there to accept.
            await Task.WhenAll(connects).WaitAsync(TimeSpan.FromSeconds(30));
            // The listener's accept queue holds them, unaccepted: more than 512 (a full queue holds one more than its
            // backlog; a few may have been accepted since and closed for sending nothing).
            await Eventually.ReturnsAsync(() => Task.FromResult(AcceptQueueLength(sidecar.ProxyAddress.Port)), length => length > DotNetDefaultBacklog + 1, TimeSpan.FromSeconds(30), "the burst in the accept queue");
            Assert.Equal(0, upstream.Count);
        }
        finally
        {
            burst.ForEach(client => client.Dispose());
        }
    }

    /// <summary>Connections established on the listener of <paramref name="port"/> and not accepted yet (/proc/net/tcp's rx_queue of a listening socket).</summary>
    private static int AcceptQueueLength(int port)
    {
        var local = ":" + port.ToString("X4", System.Globalization.CultureInfo.InvariantCulture);
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            // sl local_address rem_address st tx_queue:rx_queue ...; st 0A is LISTEN.
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[1].EndsWith(local, StringComparison.Ordinal) && fields[3] == "0A")
            {
                return Convert.ToInt32(fields[4].Split(':')[1], 16);
            }
        }

        throw new InvalidOperationException($"no listener on port {port} in /proc/net/tcp");
    }

    [Fact]
    public async Task MaxPendingConnections_HeldByConnectionsThatSendNothing_OtherCallersServedAndTheIdleOnesClosed()
    {
        // Four connections that send nothing take every pending slot; they hold no bytes, so they must not stop others.
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await StartAsync(Config(upstream.Url, "  max_pending_connections: 4"), new SettablePressure());
        var silent = new List<System.Net.Sockets.TcpClient>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var client = new System.Net.Sockets.TcpClient();
                silent.Add(client);
                await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
            }

            // Each caller is served; to make room, as many idle connections are closed (the longest idle first).
            for (var i = 0; i < 3; i++)
            {
                var response = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET /caller-{i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", within: TimeSpan.FromSeconds(30));
                Assert.Equal(200, response.Status);
            }

            Assert.Equal(3, upstream.Count);
            var closed = await Eventually.ReturnsAsync(
                async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=idle_connection_closed"),
                value => value >= 1,
                TimeSpan.FromSeconds(30),
                "idle connections closed to make room");
            Assert.InRange(closed!.Value, 1, 3);

            // The first silent connection, the longest idle, was one of them: the server closed (reset) it.
            var buffer = new byte[1];
            try
            {
                Assert.Equal(0, await silent[0].GetStream().ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
            }
            catch (IOException)
            {
            }
        }
        finally
        {
            silent.ForEach(client => client.Dispose());
        }
    }

    private static Task<RunningSidecar> StartAsync(string yaml, SettablePressure pressure) =>
        RunningSidecar.StartAsync(yaml, configureServices: services => services.Replace(ServiceDescriptor.Singleton<IMemoryPressureSource>(pressure)));

    /// <summary>Sets the pressure and waits for the overload manager's timer to reach <paramref name="state"/>.</summary>
    private static async Task SetPressureAsync(RunningSidecar sidecar, SettablePressure pressure, double ratio, OverloadState state)
    {
        var manager = sidecar.Host.Services.GetRequiredService<OverloadManager>();
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChange(OverloadState s)
        {
            if (s == state)
            {
                reached.TrySetResult();
            }
        }

        manager.StateChanged += OnChange;
        try
        {
            pressure.Ratio = ratio;
            if (manager.State != state)
            {
                await reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
            }
        }
        finally
        {
            manager.StateChanged -= OnChange;
        }
    }

    /// <summary>A Sidecar that rejects new requests (RejectRequests), and one raw HTTP/1.1 connection to its proxy port.</summary>
    private sealed class RejectingConnection : IAsyncDisposable
    {
        private readonly System.Net.Sockets.TcpClient _client;

        private RejectingConnection(RunningSidecar sidecar, System.Net.Sockets.TcpClient client)
        {
            Sidecar = sidecar;
            _client = client;
            Stream = client.GetStream();
        }

        public RunningSidecar Sidecar { get; }

        public System.Net.Sockets.NetworkStream Stream { get; }

        public static async Task<RejectingConnection> OpenAsync(string upstream, CancellationToken cancellationToken)
        {
            var pressure = new SettablePressure();
            var sidecar = await StartAsync(Config(upstream), pressure);
            await SetPressureAsync(sidecar, pressure, RejectRequests, OverloadState.RejectRequests);
            var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port, cancellationToken);
            return new RejectingConnection(sidecar, client);
        }

        /// <summary>Writes <paramref name="head"/> (ASCII), then <paramref name="body"/>.</summary>
        public async Task WriteAsync(string head, byte[] body, CancellationToken cancellationToken)
        {
            await Stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head), cancellationToken);
            await Stream.WriteAsync(body, cancellationToken);
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await Sidecar.DisposeAsync();
        }
    }

    private sealed class SettablePressure : IMemoryPressureSource
    {
        private double _ratio;

        public double Ratio
        {
            get => Volatile.Read(ref _ratio);
            set => Volatile.Write(ref _ratio, value);
        }

        public MemoryPressure Sample() => new((long)(Ratio * 1_000_000), 1_000_000);
    }
}
