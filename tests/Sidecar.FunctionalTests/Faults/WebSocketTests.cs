using System.Net.WebSockets;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>WebSocket upgrades through a route with a retry policy pass untouched and are not cut by retry timers.</summary>
public sealed class WebSocketTests
{
    [Fact]
    public Task Proxy_WebSocketThroughRouteWithPolicy_Echoes() => EchoTwiceAsync("5s", TimeSpan.FromSeconds(5));

    [Fact]
    public Task Proxy_WebSocketThroughRouteWithPolicy_OutlivesPerTryTimeout() => EchoTwiceAsync("300ms", TimeSpan.FromMilliseconds(300));

    private static async Task EchoTwiceAsync(string perTryTimeout, TimeSpan perTry)
    {
        // Kestrel: WireMock does not accept WebSocket upgrades.
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = 400;
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, CancellationToken.None);
            }
        });
        var clock = new TimerWatchingTimeProvider();
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                max_attempts: 3
                retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
                per_try_timeout: {{perTryTimeout}}
                timeout: 10s
            routes:
              - name: ws
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            """, timeProvider: clock);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using var client = new ClientWebSocket();

        await client.ConnectAsync(new Uri($"ws://{sidecar.ProxyAddress.Authority}/chat"), timeout.Token);
        var first = await EchoAsync(client, "hello", timeout.Token);
        // Idle for three per-try timeouts on Sidecar's (fake) clock: the 101 committed the attempt, so its timer, had it
        // stayed armed, would fire inside Advance and close the socket.
        clock.Advance(3 * perTry);
        var second = await EchoAsync(client, "still here", timeout.Token);
        await client.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Equal("hello", first);
        Assert.Equal("still here", second);
        Assert.Equal(WebSocketState.Closed, client.State);
        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    private static async Task<string> EchoAsync(ClientWebSocket client, string text, CancellationToken cancellationToken)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var buffer = new byte[4096];
        var received = await client.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, received.Count);
    }
}
