using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Overload;

/// <summary>
/// Callers that send slowly or stall, on raw sockets against the real Sidecar: each ends on a limit the operator sets
/// under <c>limits</c>, and one route's slow callers never take the slots another route needs.
/// </summary>
public sealed class SlowCallerTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task RequestHeaderTimeout_HalfAHeaderThenSilence_ClosedAfterTheConfiguredTimeout()
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "request_header_timeout: 2s"));
        using var client = new TcpClient();
        await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
        var stream = client.GetStream();

        var sent = Stopwatch.StartNew();
        await stream.WriteAsync("GET /stalled HTTP/1.1\r\nHost: x\r\nX-Half: "u8.ToArray());
        using var guard = new CancellationTokenSource(HangGuard);
        var response = await RawHttp.ReadResponseAsync(stream, guard.Token);
        var elapsed = sent.Elapsed;

        Assert.Equal(408, response.Status);
        Assert.Equal("close", response.Header("Connection"));
        Assert.Equal(0, await stream.ReadAsync(new byte[1], guard.Token));
        // Never before the configured timeout (Kestrel checks once a second, so it may be up to a second after).
        Assert.True(elapsed >= TimeSpan.FromSeconds(2) - TimeSpan.FromMilliseconds(50), $"closed after {elapsed}");
        Assert.Equal(0, upstream.Count);
        using var config = JsonDocument.Parse(await sidecar.Admin.GetStringAsync("/config"));
        var limits = config.RootElement.GetProperty("limits");
        Assert.Equal("2s", limits.GetProperty("request_header_timeout").GetString());
        Assert.Equal("5s", limits.GetProperty("idle_connection_timeout").GetString());
    }

    [Theory]
    [InlineData("/plain/upload")]
    [InlineData("/policy/upload")]
    public async Task MinRequestBodyRate_BodyAt300BytesASecond_Answered408ProblemAndCounted(string path)
    {
        // 300 B/s passes Kestrel's own minimum (240 B/s): without Sidecar's, this 100 KB body holds its slot for 5 minutes.
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "request_header_timeout: 2s\n  min_request_body_rate: 1KiB"));
        using var client = new TcpClient();
        await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
        using var guard = new CancellationTokenSource(HangGuard);
        var trickle = TrickleAsync(stream, bytesPerTick: 30, guard.Token);

        var response = await RawHttp.ReadResponseAsync(stream, guard.Token);
        await guard.CancelAsync();
        await trickle;

        Assert.Equal(408, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Equal("body_too_slow", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal(1, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=body_too_slow"));
    }

    [Fact]
    public async Task RouteShare_SlowUploadersTakeTheirRoutesCeiling_AnotherRouteIsStillServed()
    {
        // Four slots: the upload route may hold three of them, whatever its callers do.
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "max_concurrent_requests: 4\n  min_request_body_rate: 0B"));
        var uploaders = new List<TcpClient>();
        try
        {
            // Five uploads that send their headers and a few bytes, then stall: three take slots, the others wait.
            for (var i = 0; i < 5; i++)
            {
                var uploader = new TcpClient();
                uploaders.Add(uploader);
                await uploader.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port);
                await uploader.GetStream().WriteAsync("POST /plain/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nfirst bytes"u8.ToArray());
            }

            await Eventually.ReturnsAsync(
                async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_overload_shed_total", "action=request_queued"),
                value => value >= 1,
                HangGuard,
                "an upload waiting: its route holds every slot it may");

            // The other route gets the slot the upload route may not take, at once rather than a 503 at its deadline.
            using var served = await sidecar.Proxy.GetAsync("/policy/other");
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }
        finally
        {
            uploaders.ForEach(uploader => uploader.Dispose());
        }
    }

    private static string Config(string destination, string limits) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 2
            backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            methods: [GET, POST]
            timeout: 10s
        routes:
          - { name: plain, match: { path: "/plain/{**rest}" }, cluster: app }
          - { name: policy, match: { path: "/policy/{**rest}" }, cluster: app, policy: p }
        limits:
          {{limits}}
        """;

    /// <summary>Sends <paramref name="bytesPerTick"/> bytes every 100 ms until cancelled or the server stops reading.</summary>
    private static async Task TrickleAsync(NetworkStream stream, int bytesPerTick, CancellationToken cancellationToken)
    {
        var bytes = new byte[bytesPerTick];
        Array.Fill(bytes, (byte)'x');
        using var ticks = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            while (await ticks.WaitForNextTickAsync(cancellationToken))
            {
                await stream.WriteAsync(bytes, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
        }
    }
}
