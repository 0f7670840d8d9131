using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>Upstreams that fail at the transport level: resets, early closes, slow headers, slow bodies.</summary>
public sealed class UpstreamFaultTests
{
    private static string Config(string destination) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
            per_try_timeout: 400ms
            timeout: 10s
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        """;

    [Fact]
    public async Task Proxy_UpstreamResetsMidBodyAfter200_CallerSeesAbortAndNoRetry()
    {
        var callerHasHeaders = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Kestrel: the connection breaks mid-body at a moment the test chooses; WireMock's faults never drop it.
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            context.Response.ContentLength = 100_000;
            await context.Response.Body.WriteAsync(new byte[1_000]);
            await context.Response.Body.FlushAsync();
            // Fail only once the caller holds the 200: the response is committed, so this must not be retried.
            await callerHasHeaders.Task.WaitAsync(TimeSpan.FromSeconds(10));
            context.Abort();
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/download", HttpCompletionOption.ResponseHeadersRead);
        callerHasHeaders.SetResult();
        await using var body = await response.Content.ReadAsStreamAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Assert.ThrowsAnyAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Proxy_UpstreamClosesBeforeHeaders_RetriesIdempotentRequest(bool reset)
    {
        await using var upstream = RawUpstream.Start(async (n, connection) =>
        {
            await connection.ReadRequestHeadAsync();
            if (n == 1)
            {
                connection.Close(reset);
                return;
            }

            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Connections);
        if (reset)
        {
            Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        }

        // After a clean FIN, .NET's connection pool may resend a GET itself before Sidecar sees an error; either
        // way the caller gets one success and the upstream two connections.
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_UpstreamClosesBeforeHeadersOnPost_Returns502WithoutRetry()
    {
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            await connection.ReadRequestHeadAsync();
            connection.Close(reset: false);
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.PostAsync("/pay", new StringContent("{}"));

        // The upstream may have acted on the POST before it hung up: at most once.
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(1, problem.RootElement.GetProperty("attempts").GetInt32());
        Assert.Equal(1, upstream.Connections);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_SlowResponseHeaders_PerTryTimeoutCancelsAttemptAndRetries()
    {
        var firstCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Kestrel: the first attempt must hang until Sidecar cancels it, and the test must see the cancellation.
        await using var upstream = await TestUpstream.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    firstCancelled.TrySetResult();
                    return;
                }
            }

            await context.Response.WriteAsync("fast");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fast", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        // The abandoned attempt is cancelled upstream too, not left running.
        await firstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_SlowBodyAfterHeaders_NotCutByPerTryTimer()
    {
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Kestrel: the body pauses after a flushed first part, which WireMock does not do.
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            await context.Response.WriteAsync("head|");
            await context.Response.Body.FlushAsync();
            await resume.Task;
            await context.Response.WriteAsync("tail");
        });
        var clock = new TimerWatchingTimeProvider();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url), timeProvider: clock);

        // Headers at the caller: the response is committed. Then, while the body pauses, the fake clock passes three
        // per-try timeouts: a timer still armed would fire inside Advance and cut the body.
        using var response = await sidecar.Proxy.GetAsync("/x", HttpCompletionOption.ResponseHeadersRead).WaitAsync(TimeSpan.FromSeconds(30));
        clock.Advance(TimeSpan.FromMilliseconds(1_200));
        resume.SetResult();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("head|tail", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }
}
