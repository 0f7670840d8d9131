using System.IO.Pipelines;
using System.Net;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>
/// On a route with a policy the request body is forwarded as it arrives while a copy is kept for replay: an upload is
/// not held back until its end, a retry replays the copy and reads on, and a body past <c>buffer_limit</c> still goes
/// through once.
/// </summary>
public sealed class StreamingBodyTests
{
    /// <summary>Only a hang guard: each wait is for an event that a correct proxy brings at once.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Larger than the write buffers of the caller's and Sidecar's HTTP clients, which hold smaller writes back until
    /// they fill (on any route: YARP flushes each write only for gRPC), so each part travels as soon as it is written.
    /// </summary>
    private const int PartLength = 100 * 1024;

    private static string Config(string upstream, string bufferLimit = "1MiB") => $$"""
        clusters:
          app: { destinations: [{{upstream}}] }
        policies:
          p:
            max_attempts: 2
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { status: [503] }
            timeout: 30s
            buffer_limit: {{bufferLimit}}
            budget: off
        routes:
          - name: upload
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        """;

    [Fact]
    public async Task Upload_UpstreamReadsFirstPartBeforeCallerSendsTheRest_RetryGetsTheWholeBody()
    {
        var firstPartSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        await using var upstream = await TestUpstream.StartStreamingAsync(async (context, n) =>
        {
            if (n == 1)
            {
                // Reads only what has arrived, then answers early: the caller is still sending.
                var buffer = new byte[5];
                await context.Request.Body.ReadExactlyAsync(buffer, context.RequestAborted);
                bodies.Enqueue(Encoding.ASCII.GetString(buffer) + "...");
                firstPartSeen.TrySetResult();
                context.Response.StatusCode = 503;
                return;
            }

            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            bodies.Enqueue(body);
            await context.Response.WriteAsync(body, context.RequestAborted);
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var pipe = new Pipe();
        using var content = new StreamContent(pipe.Reader.AsStream());

        var responseTask = sidecar.Proxy.PutAsync("/upload", content);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(new string('a', PartLength)));
        // Before: Sidecar read the whole body before forwarding any of it, so the upstream never saw part 1 here.
        await firstPartSeen.Task.WaitAsync(HangGuard);
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(new string('b', PartLength)));
        await pipe.Writer.CompleteAsync();
        using var response = await responseTask.WaitAsync(HangGuard);

        var whole = new string('a', PartLength) + new string('b', PartLength);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(whole, await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(["aaaaa...", whole], bodies);
        Assert.Equal(0, PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_buffered_bytes"));
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Upload_AttemptTimesOutWhileTheCallerIsStillSending_RetryReadsOnAndTheConnectionStaysUsable()
    {
        var secondAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartStreamingAsync(async (context, n) =>
        {
            if (n == 2)
            {
                secondAttempt.TrySetResult();
            }

            // The first attempt waits for a body the caller has not finished: its per-try timeout ends it.
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            await context.Response.WriteAsync("got " + body, context.RequestAborted);
        });
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                max_attempts: 2
                per_try_timeout: 500ms
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
                retry_on: { errors: [per-try-timeout] }
                timeout: 30s
                budget: off
            routes:
              - { name: upload, match: { path: "/{**rest}" }, cluster: app, policy: p }
            """);
        using var timeout = new CancellationTokenSource(HangGuard);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port, timeout.Token);
        var stream = client.GetStream();

        // A Content-Length body, half sent: YARP's copy of it is waiting on the caller when the attempt times out.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234"), timeout.Token);
        await secondAttempt.Task.WaitAsync(timeout.Token);
        await stream.WriteAsync("56789"u8.ToArray(), timeout.Token);
        var response = await RawHttp.ReadResponseAsync(stream, timeout.Token);

        // Before: the cancelled copy left Kestrel's body reader mid-read, so the retry's read of the rest failed, and
        // Kestrel's drain logged "the body reader is in an invalid state" and closed the connection.
        Assert.Equal(200, response.Status);
        Assert.Equal("got 0123456789", response.Body);
        await stream.WriteAsync("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), timeout.Token);
        Assert.Equal(200, (await RawHttp.ReadResponseAsync(stream, timeout.Token)).Status);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Upload_PastBufferLimitAttemptTimesOutWhileTheCallerIsStillSending_NoErrorLogPerRequest()
    {
        await using var upstream = await TestUpstream.StartStreamingAsync(async (context, _) =>
        {
            // Waits for a body the caller has not finished: the per-try timeout ends the attempt.
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync(context.RequestAborted);
            await context.Response.WriteAsync("got " + body, context.RequestAborted);
        });
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                max_attempts: 2
                per_try_timeout: 300ms
                retry_on: { errors: [per-try-timeout] }
                buffer_limit: 16B
                timeout: 30s
                budget: off
            routes:
              - { name: upload, match: { path: "/{**rest}" }, cluster: app, policy: p }
            """);
        using var timeout = new CancellationTokenSource(HangGuard);
        const int Requests = 3;
        var statuses = new List<(int First, int Next)>();
        for (var i = 0; i < Requests; i++)
        {
            using var client = new System.Net.Sockets.TcpClient();
            await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port, timeout.Token);
            var stream = client.GetStream();

            // A Content-Length body over buffer_limit (forwarded once, not kept), a tenth of it sent.
            await stream.WriteAsync(Encoding.ASCII.GetBytes("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"), timeout.Token);
            var first = await RawHttp.ReadResponseAsync(stream, timeout.Token);
            // The rest of the body, then a second request: its answer means Kestrel has finished with the first one.
            var next = 0;
            try
            {
                await stream.WriteAsync(new byte[90], timeout.Token);
                await stream.WriteAsync("GET /again HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray(), timeout.Token);
                next = (await RawHttp.ReadResponseAsync(stream, timeout.Token)).Status;
            }
            catch (IOException)
            {
                // Kestrel closed the connection after the first request.
            }

            statuses.Add((first.Status, next));
        }

        // Before: each request logged Kestrel's "automatic draining of the request body failed" at Error (YARP's
        // cancelled read of the caller's body was still "in progress") and closed the caller's connection: a log line
        // per request that any caller could produce.
        var errors = sidecar.Logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, string.Join('\n', errors.Select(e => $"{e.Category}: {e.Message}")));
        Assert.All(statuses, s => Assert.Equal((504, 200), s));
    }

    [Theory]
    [InlineData("1MiB", "2", true)]
    [InlineData("16KiB", "1", true)]
    [InlineData("1MiB", "1", false)]
    public async Task Upload_UpstreamAnswers503BeforeReading_CallerGetsItBeforeFinishingTheUpload(string bufferLimit, string attempts, bool withPolicy)
    {
        await using var upstream = await TestUpstream.StartStreamingAsync((context, _) =>
        {
            // At the door: answers without reading a byte of the body.
            context.Response.StatusCode = 503;
            return context.Response.WriteAsync("busy", context.RequestAborted);
        });
        var config = Config(upstream.Url, bufferLimit);
        await using var sidecar = await RunningSidecar.StartAsync(withPolicy ? config : config.Replace("    policy: p", string.Empty, StringComparison.Ordinal));
        using var timeout = new CancellationTokenSource(HangGuard);
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(sidecar.ProxyAddress.Host, sidecar.ProxyAddress.Port, timeout.Token);
        var stream = client.GetStream();

        // A 100,000-byte upload of which only the first 10 bytes are sent until the answer is in.
        await stream.WriteAsync(Encoding.ASCII.GetBytes("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n0123456789"), timeout.Token);
        var response = await RawHttp.ReadResponseAsync(stream, timeout.Token);

        // Before: the upstream's 503 was held until the caller's last byte (the HTTP/1.1 client finishes sending before
        // it returns a response), so this read waited out the hang guard. Now it arrives at once: retried while the body
        // can be replayed (the retry meets the same answer), passed on as it is when it cannot or without a policy.
        Assert.Equal(503, response.Status);
        Assert.Equal("busy", response.Body);
        Assert.Equal(attempts, response.Header("x-sidecar-attempts"));
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Upload_ChunkedBodyPastBufferLimit_ForwardedWholeOnceAndNotRetried()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, bufferLimit: "16B"));
        var body = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        var pipe = new Pipe();
        using var content = new StreamContent(pipe.Reader.AsStream());

        var responseTask = sidecar.Proxy.PutAsync("/upload", content);
        await pipe.Writer.WriteAsync(body.AsMemory(0, 10));
        await pipe.Writer.WriteAsync(body.AsMemory(10));
        await pipe.Writer.CompleteAsync();
        using var response = await responseTask.WaitAsync(HangGuard);

        // The first response stands: the copy was let go when the body outgrew buffer_limit.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(body, Assert.Single(upstream.Snapshot()).Body);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=upload", "reason=body_not_replayable"));
        Assert.Equal(0, PrometheusText.Value(metrics, "sidecar_buffered_bytes"));
        sidecar.Logs.AssertNoBugs();
    }
}
