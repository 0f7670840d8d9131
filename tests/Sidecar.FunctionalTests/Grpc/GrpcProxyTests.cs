using System.Diagnostics;
using Grpc.Core;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Retries;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Grpc;

/// <summary>
/// gRPC through the real Sidecar: a Grpc.Net.Client caller on an h2c listener, a Grpc.AspNetCore upstream behind an
/// <c>http2</c> cluster, and policies with <c>retry_on.grpc</c>.
/// </summary>
public sealed class GrpcProxyTests
{
    private readonly ITestOutputHelper _output;

    public GrpcProxyTests(ITestOutputHelper output) => _output = output;

    /// <summary>Long enough never to decide a test: every deadline a test means is the policy's.</summary>
    private static DateTime CallerDeadline => DateTime.UtcNow.AddSeconds(20);

    private static string Config(string upstream, string policy = "", bool withPolicy = true, string path = "/sidecar.test.Echo/{**rest}") => $$"""
        listen:
          proxy: http://127.0.0.1:0
          admin: http://127.0.0.1:0
          proxy_protocol: h2c
        clusters:
          app: { destinations: [{{upstream}}], protocol: http2 }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
        {{Indent(policy)}}
        routes:
          - name: grpc
            match: { path: "{{path}}" }
            cluster: app
        {{(withPolicy ? "    policy: p" : string.Empty)}}
        """;

    private static string Indent(string policy) => string.Join("\n", policy.Split('\n').Select(l => "    " + l));

    private static Func<int, ServerCallContext, Task> FailFirst(StatusCode code, string? pushback = null) => (n, context) =>
    {
        if (n == 1)
        {
            if (pushback is not null)
            {
                context.ResponseTrailers.Add("grpc-retry-pushback-ms", pushback);
            }

            throw new RpcException(new Status(code, "scripted failure"));
        }

        return Task.CompletedTask;
    };

    [Fact]
    public async Task Unary_RouteWithoutPolicy_PassesThrough()
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, withPolicy: false));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest { Text = "hello" }, deadline: CallerDeadline);

        Assert.Equal("hello", reply.Text);
        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Unary_ExplainAskedOnAPolicyThatAllowsIt_ResponseHeadersExplainTheRetry()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\nallow_explain: true"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.UnaryAsync(new EchoRequest { Text = "x" }, new Metadata { { "x-sidecar-explain", "1" } }, deadline: CallerDeadline);
        var headers = await call.ResponseHeadersAsync;
        await call.ResponseAsync;

        var explain = headers.GetValue("x-sidecar-explain");
        _output.WriteLine(explain);
        Assert.Matches(@"^attempt=1 dest=127\.0\.0\.1:\d+ status=200 grpc=unavailable dur=\d+ms wait=10ms reason=grpc_unavailable; attempt=2 dest=127\.0\.0\.1:\d+ status=200 dur=\d+ms; decision=success_after_retry$", explain);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData(StatusCode.Unavailable)]
    [InlineData(StatusCode.ResourceExhausted)]
    public async Task Unary_ListedStatus_RetriedAlthoughPostIsNotIdempotent(StatusCode code)
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(code));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable, resource-exhausted] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest { Text = "hello" }, deadline: CallerDeadline);

        Assert.Equal(2, reply.Call);
        Assert.Equal(2, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Unary_InternalNotListed_ReachesCallerUnchangedAfterOneAttempt()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Internal));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest { Text = "x" }, deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Internal, error.StatusCode);
        Assert.Equal("scripted failure", error.Status.Detail);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Unary_InternalListed_Retried()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Internal));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable, 13] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest { Text = "x" }, deadline: CallerDeadline);

        Assert.Equal(2, reply.Call);
    }

    [Fact]
    public async Task Unary_RetriesExhausted_CallerGetsUpstreamsLastStatus()
    {
        await using var upstream = await GrpcUpstream.StartAsync((n, _) => throw new RpcException(new Status(StatusCode.Unavailable, $"down {n}")));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("down 3", error.Status.Detail);
        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Unary_PolicyDeadlinePasses_CallerGetsDeadlineExceeded()
    {
        await using var upstream = await GrpcUpstream.StartAsync((_, context) => Task.Delay(Timeout.Infinite, context.CancellationToken));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\ntimeout: 300ms"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var start = Stopwatch.GetTimestamp();
        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);
        var elapsed = Stopwatch.GetElapsedTime(start);

        // Before: Sidecar's 504 problem+json, which a gRPC client reads as (retryable) UNAVAILABLE.
        Assert.Equal(StatusCode.DeadlineExceeded, error.StatusCode);
        // Not before the deadline (less a millisecond tick of timer slack).
        Assert.True(elapsed >= TimeSpan.FromMilliseconds(295), $"{elapsed}");
        _output.WriteLine($"DEADLINE_EXCEEDED at the client {elapsed.TotalMilliseconds:0.0} ms after the call started (policy timeout 300 ms)");
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Unary_NoUpstreamListening_CallerGetsUnavailableFromSidecar()
    {
        var closed = $"http://127.0.0.1:{FreePort.Get()}";
        await using var sidecar = await RunningSidecar.StartAsync(Config(closed, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        // Sidecar's own trailers-only answer, not the client's guess from an HTTP 502.
        Assert.Equal("No response from the upstream", error.Status.Detail);
        Assert.Equal("3", error.Trailers.GetValue("x-sidecar-attempts"));
    }

    [Fact]
    public async Task Unary_NoRoute_CallerGetsUnimplemented()
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, path: "/sidecar.test.Echo/ServerStream"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
        Assert.Equal("No route matches this request", error.Status.Detail);
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task Unary_PushbackTrailer_NextAttemptWaitsThatLong()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable, pushback: "400"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline);

        Assert.Equal(2, reply.Call);
        var calls = upstream.Snapshot();
        // The backoff is 10 ms; only the pushback can explain the wait (a lower bound: the machine may be slow). Timers
        // run on a millisecond tick, so a wait may end up to a tick early by the Stopwatch.
        Assert.True(Stopwatch.GetElapsedTime(calls[0].Timestamp, calls[1].Timestamp) >= TimeSpan.FromMilliseconds(395));
    }

    [Fact]
    public async Task Unary_PushbackPastRetryAfterMax_CappedThere()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable, pushback: "600000"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\ntimeout: 20s\nretry_after: { max: 200ms }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline);

        Assert.Equal(2, reply.Call);
        var calls = upstream.Snapshot();
        Assert.True(Stopwatch.GetElapsedTime(calls[0].Timestamp, calls[1].Timestamp) >= TimeSpan.FromMilliseconds(195));
    }

    [Fact]
    public async Task Unary_PushbackPastTheDeadline_UpstreamsAnswerReturnedAtOnce()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable, pushback: "5000"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\ntimeout: 2s"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        // Waiting 5 s would pass the 2 s deadline: the upstream's own answer, not a DEADLINE_EXCEEDED later.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("scripted failure", error.Status.Detail);
        Assert.Equal(1, upstream.Count);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("soon")]
    public async Task Unary_NegativeOrMalformedPushback_NotRetried(string pushback)
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable, pushback));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Unary_Retries_UpstreamSeesShrinkingGrpcTimeoutAndPreviousAttempts()
    {
        await using var upstream = await GrpcUpstream.StartAsync((n, context) =>
        {
            if (n < 3)
            {
                context.ResponseTrailers.Add("grpc-retry-pushback-ms", "300");
                throw new RpcException(new Status(StatusCode.Unavailable, "later"));
            }

            return Task.CompletedTask;
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\ntimeout: 5s"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        await client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline);

        var calls = upstream.Snapshot();
        var timeouts = calls.Select(c => ParseTimeout(c.GrpcTimeout)).ToArray();
        // The caller's 20 s never reach the upstream: the policy's 5 s, less what earlier attempts and the 300 ms
        // waits took (whole milliseconds, and timers tick by the millisecond: a little slack below 300).
        Assert.True(timeouts[0] <= TimeSpan.FromSeconds(5), $"{timeouts[0]}");
        Assert.True(timeouts[1] <= timeouts[0] - TimeSpan.FromMilliseconds(290), $"{timeouts[0]} then {timeouts[1]}");
        Assert.True(timeouts[2] <= timeouts[1] - TimeSpan.FromMilliseconds(290), $"{timeouts[1]} then {timeouts[2]}");
        Assert.Equal([null, "1", "2"], calls.Select(c => c.PreviousRpcAttempts));
    }

    [Fact]
    public async Task Unary_PerTryTimeoutAndCallersShorterDeadline_UpstreamSeesTheTighter()
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }\ntimeout: 10s\nper_try_timeout: 2s"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        await client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline);
        await client.Echo.UnaryAsync(new EchoRequest(), deadline: DateTime.UtcNow.AddMilliseconds(1500));

        var calls = upstream.Snapshot();
        Assert.InRange(ParseTimeout(calls[0].GrpcTimeout), TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        Assert.InRange(ParseTimeout(calls[1].GrpcTimeout), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1500));
    }

    [Fact]
    public async Task Metrics_NonOkAnswer_CountedWithGrpcStatusAndNotAsSuccess()
    {
        await using var upstream = await GrpcUpstream.StartAsync((n, _) => n == 1 ? throw new RpcException(new Status(StatusCode.NotFound, "no such thing")) : Task.CompletedTask);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);
        await client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline);

        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("sidecar_requests_total{", StringComparison.Ordinal)
            && l.Contains("grpc_status=\"not_found\"", StringComparison.Ordinal) && l.Contains("outcome=\"not_retryable\"", StringComparison.Ordinal));
        Assert.Contains(metrics.Split('\n'), l => l.StartsWith("sidecar_requests_total{", StringComparison.Ordinal)
            && l.Contains("grpc_status=\"ok\"", StringComparison.Ordinal) && l.Contains("outcome=\"success\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Spans_RetriedCall_CarryRpcGrpcStatusCodeOnAttemptsAndRequest()
    {
        // Only this test's trace: other tests run in the same process while the listener is on.
        var traceId = ActivityTraceId.CreateRandom();
        var spans = new System.Collections.Concurrent.ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Sidecar",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    spans.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var upstream = await GrpcUpstream.StartAsync((n, _) => n switch
        {
            1 => throw new RpcException(new Status(StatusCode.Unavailable, "later")),
            3 => throw new RpcException(new Status(StatusCode.NotFound, "no such thing")),
            _ => Task.CompletedTask,
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);
        var headers = new Metadata { { "traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" } };

        await client.Echo.UnaryAsync(new EchoRequest(), headers, CallerDeadline);
        await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), headers, CallerDeadline).ResponseAsync);

        var requests = spans.Where(s => s.OperationName != "sidecar.attempt").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(0, requests[0].GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(ActivityStatusCode.Unset, requests[0].Status);
        Assert.Equal(5, requests[1].GetTagItem("rpc.grpc.status_code"));
        Assert.Equal(ActivityStatusCode.Error, requests[1].Status);
        var firstAttempts = spans.Where(s => s.ParentSpanId == requests[0].SpanId).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal([14, null], firstAttempts.Select(s => s.GetTagItem("rpc.grpc.status_code")));
        Assert.Equal(ActivityStatusCode.Error, firstAttempts[0].Status);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ServerStreaming_PassesThrough(bool withPolicy)
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }", withPolicy));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.ServerStream(new EchoRequest { Text = "s", Count = 3 }, deadline: CallerDeadline);
        var replies = new List<string>();
        await foreach (var reply in call.ResponseStream.ReadAllAsync())
        {
            replies.Add(reply.Text);
        }

        Assert.Equal(["s-0", "s-1", "s-2"], replies);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClientStreaming_PassesThrough(bool withPolicy)
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }", withPolicy));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.ClientStream(deadline: CallerDeadline);
        foreach (var text in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal("a,b,c", reply.Text);
    }

    [Theory]
    [InlineData("policy")]
    [InlineData("no-policy")]
    [InlineData("direct")]
    public async Task BidiStreaming_EachReplyArrivesBeforeTheNextRequestIsSent(string path)
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }", withPolicy: path == "policy"));
        using var client = new GrpcClient(path == "direct" ? new Uri(upstream.Url) : sidecar.ProxyAddress);

        // Ping-pong: the request stream stays open while each reply is awaited, so a proxy that holds the request
        // body back until it ends never lets the first reply through (the call then fails at the caller's deadline).
        using var call = client.Echo.Bidi(deadline: CallerDeadline);
        var roundTrips = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call.RequestStream.WriteAsync(new EchoRequest { Text = $"ping {i}" });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            roundTrips.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            Assert.Equal($"ping {i}", call.ResponseStream.Current.Text);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
        Assert.Equal(StatusCode.OK, call.GetStatus().StatusCode);
        // The first round trip includes the call's setup; the median is the steady state.
        var first = roundTrips[0];
        roundTrips.Sort();
        _output.WriteLine($"bidi ping-pong ({path}): first {first:0.00} ms, median {roundTrips[roundTrips.Count / 2]:0.00} ms, max {roundTrips[^1]:0.00} ms over {roundTrips.Count} round trips");
    }

    [Fact]
    public async Task ClientStreaming_FirstAttemptUnavailable_RetryReplaysTheMessages()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.ClientStream(deadline: CallerDeadline);
        foreach (var text in new[] { "a", "b", "c" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text });
        }

        await call.RequestStream.CompleteAsync();
        var reply = await call;

        Assert.Equal("a,b,c", reply.Text);
        Assert.Equal(2, reply.Call);
    }

    [Fact]
    public async Task BidiStreaming_FirstAttemptUnavailable_RetriedAndStillPingPongs()
    {
        await using var upstream = await GrpcUpstream.StartAsync(FailFirst(StatusCode.Unavailable));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "retry_on: { grpc: [unavailable] }"));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.Bidi(deadline: CallerDeadline);
        foreach (var text in new[] { "one", "two" })
        {
            await call.RequestStream.WriteAsync(new EchoRequest { Text = text });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(text, call.ResponseStream.Current.Text);
            Assert.Equal(2, call.ResponseStream.Current.Call);
        }

        await call.RequestStream.CompleteAsync();
        Assert.False(await call.ResponseStream.MoveNext(CancellationToken.None));
    }

    private static TimeSpan ParseTimeout(string? value)
    {
        Assert.NotNull(value);
        Assert.True(DeadlineHeaderParser.TryParseGrpcTimeout(value, out var timeout), value);
        return timeout;
    }
}
