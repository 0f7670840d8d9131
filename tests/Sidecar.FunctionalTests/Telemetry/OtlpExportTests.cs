using System.Collections.Concurrent;
using System.Net;
using System.Text;
using OpenTelemetry.Exporter;
using Sidecar.Telemetry;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// <see cref="OpenTelemetryExport"/> sends metrics and traces over OTLP/HTTP to a loopback receiver.
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
                metrics.RequestCompleted("orders-read", "default", "GET", "success_after_retry", 2, TimeSpan.FromMilliseconds(70));
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
}
