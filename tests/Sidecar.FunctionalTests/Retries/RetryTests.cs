using System.Net;
using System.Text;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Retries;

public sealed class RetryTests
{
    private const string Policy = """
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { status: [429, 503], errors: [connect-failure, reset, per-try-timeout] }
            timeout: 10s
        """;

    private static string Config(string destinations, string policy = Policy, string routeExtra = "") => $$"""
        clusters:
          app: { destinations: [{{destinations}}] }
        {{policy}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        {{routeExtra}}
        """;

    [Fact]
    public async Task Retry_Two503sThen200_ReturnsSuccessWithAttemptHeaders()
    {
        using var upstream = ScriptedUpstream.Start(Busy(), Busy(), Response.Create().WithBody("done"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/orders");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("done", await response.Content.ReadAsStringAsync());
        Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
        var seen = upstream.Snapshot();
        Assert.Equal(["1", "2", "3"], seen.Select(r => r.Header("x-sidecar-attempt")));
        Assert.Equal([null, null, "true"], seen.Select(r => r.Header("x-sidecar-last-attempt")));
        Assert.All(seen, r => Assert.True(long.Parse(r.Header("x-sidecar-deadline-ms")!, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 10_000));
    }

    [Fact]
    public async Task Retry_Exhausted_ReturnsLastUpstreamResponseUnchanged()
    {
        using var upstream = ScriptedUpstream.Start([.. Enumerable.Range(1, 3).Select(n => Busy("busy " + n).WithHeader("x-upstream-try", n.ToString(System.Globalization.CultureInfo.InvariantCulture)))]);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy 3", await response.Content.ReadAsStringAsync());
        Assert.Equal("3", response.Headers.GetValues("x-upstream-try").Single());
        Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Retry_PostWithoutIdempotencyKey_IsNotRetried()
    {
        using var upstream = ScriptedUpstream.Status(503, "busy");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.PostAsync("/pay", new StringContent("{\"amount\":5}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Retry_PostWithIdempotencyKey_ReplaysIdenticalBody()
    {
        using var upstream = ScriptedUpstream.Start(Busy("ok"), Busy("ok"), Response.Create().WithStatusCode(201).WithBody("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var payload = new byte[40_000];
        new Random(42).NextBytes(payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/pay") { Content = new ByteArrayContent(payload) };
        request.Headers.Add("Idempotency-Key", "abc-123");

        using var response = await sidecar.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var seen = upstream.Snapshot();
        Assert.Equal(3, seen.Length);
        Assert.All(seen, r => Assert.Equal(payload, r.Body));
        Assert.All(seen, r => Assert.Equal("abc-123", r.Header("Idempotency-Key")));
    }

    [Fact]
    public async Task Retry_ChunkedBodyWithinLimit_IsReplayed()
    {
        using var upstream = ScriptedUpstream.Start(Busy("ok"), Response.Create().WithBody("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var payload = Encoding.UTF8.GetBytes(new string('z', 5000));
        using var request = new HttpRequestMessage(HttpMethod.Put, "/doc") { Content = new StreamContent(new MemoryStream(payload)) };
        request.Headers.TransferEncodingChunked = true;

        using var response = await sidecar.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.All(upstream.Snapshot(), r => Assert.Equal(payload, r.Body));
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Retry_BodyLargerThanBufferLimit_ForwardedOnceIntact()
    {
        using var upstream = ScriptedUpstream.Status(503, "busy");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var payload = new byte[300 * 1024];
        new Random(7).NextBytes(payload);

        using var response = await sidecar.Proxy.PutAsync("/big", new ByteArrayContent(payload));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        var seen = Assert.Single(upstream.Snapshot());
        Assert.Equal(payload, seen.Body);
    }

    [Fact]
    public async Task Retry_RetryAfterOneSecond_WaitsAtLeastTheSecond()
    {
        using var upstream = ScriptedUpstream.Start(Busy("x").WithHeader("Retry-After", "1"), Response.Create().WithBody("x"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = upstream.Snapshot();
        // Only that the wait happened: its exact length is RetryResponseTransformTests' (on a fake clock), and an upper
        // bound on wall-clock time would only measure how loaded the machine is.
        var gap = seen[1].At - seen[0].At;
        Assert.True(gap >= TimeSpan.FromMilliseconds(900), $"retried after {gap}");
    }

    [Fact]
    public async Task Retry_RetryAfterBeyondDeadline_ReturnsUpstreamResponseAtOnce()
    {
        using var upstream = ScriptedUpstream.Start(Response.Create().WithStatusCode(429).WithHeader("Retry-After", "30").WithBody("slow down"));
        // A fake clock that nobody moves: had Sidecar waited (for the Retry-After or until the deadline), the call
        // would never complete.
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy.Replace("timeout: 10s", "timeout: 2s", StringComparison.Ordinal)), timeProvider: new TimerWatchingTimeProvider());

        using var response = await sidecar.Proxy.GetAsync("/x").WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("slow down", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Retry_PushbackNegative_StopsRetries()
    {
        using var upstream = ScriptedUpstream.Start(Busy("no").WithHeader("x-sidecar-retry-pushback-ms", "-1"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Retry_PerTryTimeout_AbandonsSlowAttempt()
    {
        // Kestrel: the first attempt must hang until Sidecar abandons it (a WireMock delay runs on regardless).
        var firstAbandoned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    firstAbandoned.TrySetResult();
                    return;
                }
            }

            await context.Response.WriteAsync("fast");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy + "\n    per_try_timeout: 1s\n"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        // A later attempt answered: the first (hanging for 10 s) was abandoned by its per-try timer. (On a loaded
        // machine the second may pass its second too, and the third answer: the attempt count is not the point.)
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("fast", await response.Content.ReadAsStringAsync());
        Assert.InRange(int.Parse(response.Headers.GetValues("x-sidecar-attempts").Single(), System.Globalization.CultureInfo.InvariantCulture), 2, 3);
        await firstAbandoned.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Retry_StreamingResponse_NotCutByPerTryTimer()
    {
        // Kestrel: the body is streamed in flushed chunks with pauses, which WireMock does not do.
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            await context.Response.StartAsync();
            for (var i = 0; i < 6; i++)
            {
                await context.Response.WriteAsync("chunk" + i + "\n");
                await context.Response.Body.FlushAsync();
                await Task.Delay(200);
            }
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy + "\n    per_try_timeout: 300ms\n"));

        using var response = await sidecar.Proxy.GetAsync("/stream");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(string.Concat(Enumerable.Range(0, 6).Select(i => "chunk" + i + "\n")), body);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Retry_ConnectionRefused_Returns502ProblemJson()
    {
        var closedPort = FreePort.Get();
        await using var sidecar = await RunningSidecar.StartAsync(Config($"http://127.0.0.1:{closedPort}"));

        using var response = await sidecar.Proxy.PostAsync("/x", new StringContent("body"));

        // POST without a key is still retried here: a refused connection never reached the upstream.
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("r", problem.RootElement.GetProperty("route").GetString());
        Assert.Equal(3, problem.RootElement.GetProperty("attempts").GetInt32());
        Assert.Equal(502, problem.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.RootElement.GetProperty("title").GetString()));
        Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(2, sidecar.Logs.GetSnapshot().Count(r => r.Id.Id == 200));
    }

    [Fact]
    public async Task Retry_DeadlineRunsOut_Returns504()
    {
        // Kestrel: every attempt must hang until Sidecar abandons it (a WireMock delay runs on regardless).
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy.Replace("timeout: 10s", "timeout: 400ms", StringComparison.Ordinal)));

        using var response = await sidecar.Proxy.GetAsync("/x");

        // The upstream hangs for 10 s and then answers 200: only the deadline can have produced the 504.
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Retry_EveryAttemptTimesOut_Returns504()
    {
        // Kestrel: every attempt must hang until Sidecar abandons it (a WireMock delay runs on regardless).
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy + "\n    per_try_timeout: 150ms\n"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Retry_OverrideAbovePolicy_IsCapped()
    {
        using var upstream = ScriptedUpstream.Status(503, "busy");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, Policy + "\n    allow_overrides: true\n"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("x-sidecar-max-attempts", "10");

        using var response = await sidecar.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, upstream.Count);
        Assert.All(upstream.Snapshot(), r => Assert.Null(r.Header("x-sidecar-max-attempts")));
    }

    [Fact]
    public async Task Retry_OverrideBelowPolicy_IgnoredUnlessAllowed()
    {
        using var upstream = ScriptedUpstream.Status(503, "busy");
        await using var strict = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("x-sidecar-max-attempts", "1");

        using var response = await strict.Proxy.SendAsync(request);

        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Retry_SeveralDestinations_RetryGoesToAnotherDestination()
    {
        using var bad = ScriptedUpstream.Status(503, "bad");
        using var good = ScriptedUpstream.Status(200, "good");
        await using var sidecar = await RunningSidecar.StartAsync(Config($"{bad.Url}, {good.Url}").Replace("destinations:", "load_balancing: FirstAlphabetical, destinations:", StringComparison.Ordinal));

        for (var i = 0; i < 5; i++)
        {
            using var response = await sidecar.Proxy.GetAsync("/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // FirstAlphabetical always picks d1 (bad) first; every retry must prefer d2.
        Assert.Equal(5, bad.Count);
        Assert.Equal(5, good.Count);
    }

    [Fact]
    public async Task Retry_HardDownUpstreamUnderLoad_StaysWithinBudget()
    {
        using var upstream = ScriptedUpstream.Status(503, "down");
        var policy = Policy.Replace("timeout: 10s", "timeout: 10s\n    budget: { ratio: 0.2, min_per_second: 1, window: 10s }", StringComparison.Ordinal);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, policy));
        const int Requests = 400;

        using var gate = new SemaphoreSlim(32);
        var tasks = Enumerable.Range(0, Requests).Select(async _ =>
        {
            await gate.WaitAsync();
            try
            {
                using var response = await sidecar.Proxy.GetAsync("/x");
                return response.StatusCode;
            }
            finally
            {
                gate.Release();
            }
        });
        var statuses = await Task.WhenAll(tasks);

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        var attemptsPerRequest = upstream.Count / (double)Requests;
        Assert.InRange(attemptsPerRequest, 1.0, 1.3);
    }

    [Fact]
    public async Task Retry_RetryUntilJsonField_RetriesUntilValidAndMarksFailure()
    {
        using var upstream = ScriptedUpstream.Start(Json("{\"state\":\"pending\"}"), Json("{\"state\":\"ready\"}"));
        var policy = Policy + "\n    retry_until:\n      - json: { path: state, equals: ready }\n";
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, policy));

        using var response = await sidecar.Proxy.GetAsync("/job");

        Assert.Equal("{\"state\":\"ready\"}", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.False(response.Headers.Contains("x-sidecar-validation"));
    }

    [Fact]
    public async Task Retry_RetryUntilNeverMet_ReturnsLastResponseWithValidationFailed()
    {
        using var upstream = ScriptedUpstream.Start([.. Enumerable.Range(1, 3).Select(n => Json("{\"state\":\"pending\",\"n\":" + n + "}"))]);
        var policy = Policy + "\n    retry_until:\n      - json: { path: state, equals: ready }\n";
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, policy));

        using var response = await sidecar.Proxy.GetAsync("/job");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"state\":\"pending\",\"n\":3}", await response.Content.ReadAsStringAsync());
        Assert.Equal("failed", response.Headers.GetValues("x-sidecar-validation").Single());
    }

    private static IResponseBuilder Busy(string body = "busy") => Response.Create().WithStatusCode(503).WithBody(body);

    private static IResponseBuilder Json(string body) => Response.Create().WithHeader("Content-Type", "application/json").WithBody(body);
}
