using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// End to end through the real <c>sidecar</c> process, a real upstream that records each <c>traceparent</c> it receives
/// and a real OTLP receiver: the upstream's parent span is an exported attempt span, under Sidecar's request span, which
/// is the top of Sidecar's trace (or continues the caller's). With retries, per-try timeouts, hedges and no policy.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class TraceContinuityTests : IAsyncLifetime
{
    private const string CallerTraceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string CallerSpanId = "00f067aa0ba902b7";

    private OtlpReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await OtlpReceiver.StartAsync();

    [Fact]
    public async Task SidecarProcess_Traced_UpstreamParentIsAnExportedAttemptUnderTheRequestSpan()
    {
        await using var upstream = await ScriptedUpstreamAsync();
        var directory = Directory.CreateTempSubdirectory("sidecar-trace-");
        var config = Path.Combine(directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              retry:
                max_attempts: 3
                per_try_timeout: 3s
                backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
                retry_on: { status: [503], errors: [per-try-timeout] }
              hedge:
                max_attempts: 2
                hedge: { delay: 50ms, max_extra: 1 }
            routes:
              - name: orders
                match: { path: "/orders/{**rest}" }
                cluster: app
                policy: retry
              - name: hedged
                match: { path: "/hedged/{**rest}" }
                cluster: app
                policy: hedge
              - name: plain
                match: { path: "/plain/{**rest}" }
                cluster: app
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        try
        {
            using var sidecar = SidecarProcess.Start(
                new Dictionary<string, string>
                {
                    ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.HttpAddress,
                    ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                },
                "run",
                "--config",
                config);
            var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            // Only the first attempt is meant to time out (it hangs for 30 s); 3 s leaves the other two room on a loaded
            // machine, where the JIT build compiles the retry path as the traced request takes it (300 ms once gave a 504).
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(30) };
            using (var warmUp = await client.GetAsync("/plain/0"))
            {
                Assert.Equal(HttpStatusCode.OK, warmUp.StatusCode);
            }

            using (var traced = new HttpRequestMessage(HttpMethod.Get, "/orders/1"))
            {
                traced.Headers.TryAddWithoutValidation("traceparent", $"00-{CallerTraceId}-{CallerSpanId}-01");
                using var response = await client.SendAsync(traced);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
            }

            using (var hedgedResponse = await client.GetAsync("/hedged/1"))
            {
                Assert.Equal(HttpStatusCode.OK, hedgedResponse.StatusCode);
            }

            using (var plainResponse = await client.GetAsync("/plain/1"))
            {
                Assert.Equal(HttpStatusCode.OK, plainResponse.StatusCode);
            }

            // The drain lets in-flight requests finish (the losing hedge is awaited by its request), then the host's
            // shutdown flushes the spans.
            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var spans = _receiver.Spans("/v1/traces");
        var byId = spans.ToDictionary(s => s.SpanId, StringComparer.Ordinal);
        Assert.All(spans, s => Assert.Equal("Sidecar", s.Scope));
        Assert.DoesNotContain(spans, s => s.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));

        // Every request the upstream saw names an exported attempt span, child of an exported request span whose
        // parent is not exported: the caller's span, or none.
        var requests = upstream.Snapshot();
        Assert.Contains(requests, r => r.PathAndQuery == "/orders/1" && r.Header("x-sidecar-attempt") == "3");
        Assert.Contains(requests, r => r.PathAndQuery == "/hedged/1" && r.Header("x-sidecar-attempt") == "2");
        Assert.Contains(requests, r => r.PathAndQuery == "/plain/1");
        foreach (var request in requests)
        {
            var parts = request.Header("traceparent")!.Split('-');
            var attempt = byId[parts[2]];
            Assert.Equal(parts[1], attempt.TraceId);
            Assert.Equal("sidecar.attempt", attempt.Name);
            Assert.Equal(OtlpSpan.ClientKind, attempt.Kind);
            var root = byId[attempt.ParentSpanId];
            Assert.Equal(OtlpSpan.ServerKind, root.Kind);
            Assert.False(byId.ContainsKey(root.ParentSpanId));
        }

        var orders = Assert.Single(spans, s => s.Name == "GET orders");
        Assert.Equal(CallerTraceId, orders.TraceId);
        Assert.Equal(CallerSpanId, orders.ParentSpanId);
        Assert.Equal("GET", orders.Attribute("http.request.method"));
        Assert.Equal("orders", orders.Attribute("sidecar.route"));
        Assert.Equal("success_after_retry", orders.Attribute("sidecar.outcome"));
        Assert.Equal(3L, orders.Attribute("sidecar.attempts"));
        var attempts = spans.Where(s => s.ParentSpanId == orders.SpanId).OrderBy(s => (long)s.Attribute("sidecar.attempt")!).ToList();
        Assert.Equal([1L, 2L, 3L], attempts.Select(s => (long)s.Attribute("sidecar.attempt")!));
        Assert.Equal("per_try_timeout", attempts[0].Attribute("sidecar.result"));
        Assert.Equal("per_try_timeout", attempts[0].Attribute("error.type"));
        Assert.Equal(OtlpSpan.ErrorStatus, attempts[0].StatusCode);
        Assert.Equal("5xx", attempts[1].Attribute("sidecar.result"));
        Assert.Equal(503L, attempts[1].Attribute("http.response.status_code"));
        Assert.Equal("2xx", attempts[2].Attribute("sidecar.result"));
        Assert.Equal(2L, attempts[2].Attribute("http.request.resend_count"));

        var hedged = Assert.Single(spans, s => s.Name == "GET hedged");
        Assert.Equal(string.Empty, hedged.ParentSpanId);
        var hedges = spans.Where(s => s.ParentSpanId == hedged.SpanId).Select(s => (string)s.Attribute("sidecar.result")!).Order(StringComparer.Ordinal);
        Assert.Equal(["2xx", "cancelled"], hedges);

        // A route without a policy keeps its request and attempt spans.
        var plain = spans.Where(s => s.Name == "GET plain").ToList();
        Assert.Equal(2, plain.Count);
        Assert.All(plain, span =>
        {
            Assert.Equal(string.Empty, span.ParentSpanId);
            Assert.Equal("success", span.Attribute("sidecar.outcome"));
            Assert.Equal("2xx", Assert.Single(spans, s => s.ParentSpanId == span.SpanId).Attribute("sidecar.result"));
        });
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    /// <summary>
    /// By Sidecar's <c>x-sidecar-attempt</c> header (so an attempt that timed out before it arrived changes nothing):
    /// the first attempt hangs until Sidecar gives up on it (a per-try timeout, or a hedge that lost); on
    /// <c>/orders/*</c> the second answers 503; everything else 200.
    /// </summary>
    private static Task<TestUpstream> ScriptedUpstreamAsync() =>
        TestUpstream.StartAsync(async (context, _) =>
        {
            var path = context.Request.Path.Value ?? string.Empty;
            var n = int.TryParse(context.Request.Headers["x-sidecar-attempt"], out var attempt) ? attempt : 0;
            if (n == 1)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            context.Response.StatusCode = path.StartsWith("/orders/", StringComparison.Ordinal) && n == 2
                ? StatusCodes.Status503ServiceUnavailable
                : StatusCodes.Status200OK;
            await context.Response.WriteAsync("x");
        });
}
