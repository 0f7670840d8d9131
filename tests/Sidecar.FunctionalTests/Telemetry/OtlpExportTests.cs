using System.Collections.Concurrent;
using System.Net;
using System.Text;
using OpenTelemetry.Exporter;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Telemetry;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// <see cref="OpenTelemetryExport"/> sends metrics and traces over OTLP/HTTP to a loopback receiver: directly, and from
/// the real <c>sidecar</c> process configured by the standard <c>OTEL_*</c> environment variables.
/// </summary>
public sealed class OtlpExportTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, string ContentType, byte[] Body)> _received = new();
    private WebApplication? _receiver;
    private Uri? _baseAddress;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        _receiver = builder.Build();
        _receiver.MapPost("/v1/{signal}", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            _received.Enqueue((context.Request.Path.Value!, context.Request.ContentType ?? string.Empty, body.ToArray()));
            context.Response.ContentType = "application/x-protobuf";
            context.Response.StatusCode = StatusCodes.Status200OK;
        });
        await _receiver.StartAsync();
        var address = _receiver.Urls.Single();
        _baseAddress = new Uri(address);
    }

    [Fact]
    public void Dispose_AfterMetricsAndSpans_ExportsBothSignals()
    {
        var options = new OpenTelemetryExportOptions
        {
            ExportMetrics = true,
            ExportTraces = true,
            MetricsEndpoint = new Uri(_baseAddress!, "/v1/metrics"),
            TracesEndpoint = new Uri(_baseAddress!, "/v1/traces"),
            Protocol = OtlpExportProtocol.HttpProtobuf,
        };

        using (var services = new ServiceCollection().AddMetrics().BuildServiceProvider())
        using (var export = new OpenTelemetryExport(options))
        {
            Assert.True(export.ExportsMetrics);
            Assert.True(export.ExportsTraces);
            var metrics = new SidecarMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
            using (var request = SidecarActivitySource.StartRequest("orders-read", "GET"))
            {
                Assert.NotNull(request);
                using (var first = SidecarActivitySource.StartAttempt("orders-read", 1))
                {
                    SidecarActivitySource.SetAttemptResult(first, "5xx", 503);
                }

                metrics.AttemptCompleted("orders-read", "orders", "5xx", TimeSpan.FromMilliseconds(8));
                metrics.Retried("orders-read", "503");
                metrics.BackoffSlept("orders-read", TimeSpan.FromMilliseconds(50));
                using (var second = SidecarActivitySource.StartAttempt("orders-read", 2))
                {
                    SidecarActivitySource.SetAttemptResult(second, "2xx", 200);
                }

                metrics.AttemptCompleted("orders-read", "orders", "2xx", TimeSpan.FromMilliseconds(5));
                metrics.RequestCompleted("orders-read", "default", "GET", "success_after_retry", "2xx", 2, TimeSpan.FromMilliseconds(70));
                SidecarActivitySource.SetRequestOutcome(request, "success_after_retry", 2, 200);
            }
        }

        var metricsBodies = Bodies("/v1/metrics");
        var traceBodies = Bodies("/v1/traces");
        Assert.Contains(metricsBodies, body => Contains(body, "sidecar.requests") && Contains(body, "sidecar.retries") && Contains(body, "orders-read"));
        Assert.Contains(metricsBodies, body => Contains(body, "sidecar"));
        Assert.Contains(traceBodies, body => Contains(body, "http.request.resend_count") && Contains(body, "sidecar.attempt"));
        Assert.Contains(traceBodies, body => Contains(body, "GET orders-read"));
        Assert.All(_received, r => Assert.Equal("application/x-protobuf", r.ContentType));
    }

    [Fact]
    [Trait("Category", SidecarProcess.Category)]
    public async Task SidecarProcess_OtlpEnvironmentSet_ExportsRetrySpansAndMetricsByShutdown()
    {
        using var upstream = ScriptedUpstream.Start(Response.Create().WithStatusCode(503).WithBody("busy"), Response.Create().WithBody("done"));
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
        var environment = new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _baseAddress!.ToString().TrimEnd('/'),
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "500",
            ["OTEL_SERVICE_NAME"] = "sidecar-otlp-test",
        };

        try
        {
            using var sidecar = SidecarProcess.Start(environment, "run", "--config", config);
            var (proxy, admin) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            using (var adminClient = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) })
            {
                Assert.Equal("ok\n", await adminClient.GetStringAsync("/healthz"));
                Assert.Equal("ready\n", await adminClient.GetStringAsync("/readyz"));
                Assert.Contains("sidecar_", await adminClient.GetStringAsync("/metrics"), StringComparison.Ordinal);
            }

            using (var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(10) })
            using (var response = await client.GetAsync("/orders/1"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
            }

            // Traced, every attempt carries the trace context upstream.
            Assert.All(upstream.Snapshot(), request => Assert.NotNull(request.Header("traceparent")));

            // SIGTERM: the drain stops the host, whose shutdown flushes both providers.
            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var traceBodies = Bodies("/v1/traces");
        Assert.Contains(traceBodies, body => Contains(body, "http.request.resend_count") && Contains(body, "sidecar.attempt"));
        Assert.Contains(traceBodies, body => Contains(body, "GET orders-read") && Contains(body, "sidecar-otlp-test"));
        // One server span: the proxied request. Probes and scrapes on the admin port are not traced.
        Assert.Equal(1, traceBodies.Sum(body => Occurrences(body, "Microsoft.AspNetCore.Hosting.HttpRequestIn")));
        Assert.Contains(Bodies("/v1/metrics"), body => Contains(body, "sidecar.retries") && Contains(body, "orders-read"));
        Assert.All(_received, r => Assert.Equal("application/x-protobuf", r.ContentType));
    }

    public async Task DisposeAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.StopAsync();
            await _receiver.DisposeAsync();
        }
    }

    private List<byte[]> Bodies(string path) => [.. _received.Where(r => r.Path == path).Select(r => r.Body)];

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private static int Occurrences(byte[] body, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        var count = 0;
        for (var rest = body.AsSpan(); rest.IndexOf(needle) is var at and >= 0; rest = rest[(at + needle.Length)..])
        {
            count++;
        }

        return count;
    }
}
