using System.Collections.Concurrent;
using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// The real <c>sidecar</c> process configured only by the standard <c>OTEL_*</c> environment variables exports to a
/// real OTLP receiver on loopback: each endpoint variable on its own, and <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>.
/// Everything is read after SIGTERM, whose drain stops the host and flushes the OpenTelemetry SDK.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class OtlpExportTests : IAsyncLifetime
{
    private OtlpReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await OtlpReceiver.StartAsync();

    [Fact]
    public async Task SidecarProcess_EndpointWithHttpProtobuf_ExportsSpansAndMetricsOnSignalPaths()
    {
        await using var upstream = await RetryOnceUpstreamAsync();

        await RunAsync(upstream, new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.HttpAddress,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "sidecar-otlp-test",
        });

        var spans = _receiver.Spans("/v1/traces");
        Assert.Contains(spans, s => s.Name == "GET orders-read" && s.ServiceName == "sidecar-otlp-test");
        Assert.Contains(spans, s => s.Name == "sidecar.attempt" && Equals(s.Attribute("http.request.resend_count"), 1L));
        var metrics = _receiver.Metrics("/v1/metrics");
        Assert.Contains(("sidecar-otlp-test", "sidecar.retries"), metrics);
        Assert.Contains(("sidecar-otlp-test", "sidecar.requests"), metrics);
        // The SDK's UseOtlpExporter sends logs too (the "listening" line, at the configured levels).
        Assert.Contains("/v1/logs", _receiver.Paths());
        Assert.All(_receiver.Exports, e => Assert.Equal("application/x-protobuf", e.ContentType));
    }

    [Fact]
    public async Task SidecarProcess_TracesEndpointAlone_ExportsSpansToThatUrlAsGiven()
    {
        await using var upstream = await RetryOnceUpstreamAsync();

        await RunAsync(upstream, new()
        {
            ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = _receiver.HttpAddress + "/collector/spans",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        });

        Assert.Contains(_receiver.Spans("/collector/spans"), s => s.Name == "GET orders-read" && s.ServiceName == "sidecar");
        // Metrics have no endpoint of their own here: none reach this receiver, and none are sent to the traces URL.
        Assert.Equal(["/collector/spans"], _receiver.Paths());
        Assert.All(upstream.Snapshot(), request => Assert.NotNull(request.Header("traceparent")));
    }

    [Fact]
    public async Task SidecarProcess_MetricsEndpointAlone_ExportsMetricsThereAndRecordsNoSpans()
    {
        await using var upstream = await RetryOnceUpstreamAsync();

        await RunAsync(upstream, new()
        {
            ["OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"] = _receiver.HttpAddress + "/collector/metrics",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
        });

        Assert.Contains(("sidecar", "sidecar.upstream.attempts"), _receiver.Metrics("/collector/metrics"));
        Assert.Equal(["/collector/metrics"], _receiver.Paths());
        // Traces have no endpoint: no span is recorded, so none is sent upstream either.
        Assert.All(upstream.Snapshot(), request => Assert.Null(request.Header("traceparent")));
    }

    [Fact]
    public async Task SidecarProcess_EndpointWithoutProtocol_ExportsOverGrpcTheDefault()
    {
        await using var upstream = await RetryOnceUpstreamAsync();

        await RunAsync(upstream, new()
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _receiver.GrpcAddress,
        });

        Assert.Contains(_receiver.Spans("/opentelemetry.proto.collector.trace.v1.TraceService/Export"), s => s.Name == "GET orders-read");
        Assert.Contains(("sidecar", "sidecar.requests"), _receiver.Metrics("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"));
        Assert.All(_receiver.Exports, e => Assert.StartsWith("application/grpc", e.ContentType, StringComparison.Ordinal));
    }

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    /// <summary>Per path: 503 first, then 200, so each request is retried once.</summary>
    private static Task<TestUpstream> RetryOnceUpstreamAsync()
    {
        var seen = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        return TestUpstream.StartAsync(async (context, _) =>
        {
            var n = seen.AddOrUpdate(context.Request.Path.Value ?? string.Empty, 1, static (_, count) => count + 1);
            context.Response.StatusCode = n == 1 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status200OK;
            await context.Response.WriteAsync(n == 1 ? "busy" : "done");
        });
    }

    /// <summary>Runs <c>sidecar</c> with <paramref name="environment"/>, sends one retried request, then SIGTERM.</summary>
    private static async Task RunAsync(TestUpstream upstream, Dictionary<string, string> environment)
    {
        var directory = Directory.CreateTempSubdirectory("sidecar-otlp-");
        var config = Path.Combine(directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            routes:
              - name: orders-read
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        try
        {
            using var sidecar = SidecarProcess.Start(environment, "run", "--config", config);
            var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            using (var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(10) })
            using (var response = await client.GetAsync("/orders/1"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
            }

            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
