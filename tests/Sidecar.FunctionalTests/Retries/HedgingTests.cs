using System.Net;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Retries;

public sealed class HedgingTests
{
    private static string Config(string destinations, string hedge = "hedge: { delay: 100ms, max_extra: 1 }") => $$"""
        clusters:
          app: { destinations: [{{destinations}}] }
        policies:
          h:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            timeout: 10s
            {{hedge}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: h
        """;

    [Fact]
    public async Task Hedge_SlowFirstAttempt_SecondAttemptWinsAndFirstIsCancelled()
    {
        var firstCancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Kestrel: the first attempt must hang until Sidecar cancels it, and the test must see the cancellation.
        await using var upstream = await TestUpstream.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    firstCancelled.TrySetResult();
                    return;
                }
            }

            await context.Response.WriteAsync("answer " + n);
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("answer 2", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        await firstCancelled.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var seen = upstream.Snapshot();
        Assert.Equal(["1", "2"], seen.Select(r => r.Header("x-sidecar-attempt")).Order());
    }

    [Fact]
    public async Task Hedge_FastAnswer_NoExtraAttempt()
    {
        using var upstream = ScriptedUpstream.Status(200, "quick");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "hedge: { delay: 2s, max_extra: 2 }"));

        for (var i = 0; i < 5; i++)
        {
            using var response = await sidecar.Proxy.GetAsync("/x");
            Assert.Equal("quick", await response.Content.ReadAsStringAsync());
            Assert.Equal("1", response.Headers.GetValues("x-sidecar-attempts").Single());
        }

        Assert.Equal(5, upstream.Count);
    }

    [Fact]
    public async Task Hedge_RetryableAnswer_NextAttemptStartsAtOnceAndWins()
    {
        using var upstream = ScriptedUpstream.Start(Response.Create().WithStatusCode(503).WithBody("busy"), Response.Create().WithBody("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "hedge: { delay: 5s, max_extra: 1 }"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Hedge_EveryAttemptRetryable_LastResponseReturnedUnchanged()
    {
        using var upstream = ScriptedUpstream.Start([.. Enumerable.Range(1, 3).Select(n => Response.Create().WithStatusCode(503).WithBody("busy " + n))]);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "hedge: { delay: 5s, max_extra: 2 }"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy 3", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Hedge_PostWithoutKey_IsNotHedged()
    {
        using var upstream = ScriptedUpstream.Start(Response.Create().WithDelay(TimeSpan.FromMilliseconds(400)).WithBody("done"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.PostAsync("/pay", new StringContent("{}"));

        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Hedge_LargeStreamedBody_RelayedIntact()
    {
        var payload = new byte[512 * 1024];
        new Random(3).NextBytes(payload);
        // Kestrel: the first attempt must hang until Sidecar cancels it (a WireMock delay runs on regardless).
        await using var upstream = await TestUpstream.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(20), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await context.Response.Body.WriteAsync(payload);
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var body = await sidecar.Proxy.GetByteArrayAsync("/blob");

        Assert.Equal(payload, body);
    }
}
