using System.Net;
using Sidecar.Configuration;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Telemetry;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus server scrapes a real Kestrel app serving Sidecar's metrics through the OpenTelemetry Prometheus
/// exporter as the admin port does, and the admin port of the real Sidecar after retried traffic.
/// </summary>
public sealed class PrometheusServerTests : IAsyncLifetime
{
    private readonly ITestOutputHelper _output;
    private WebApplication? _app;
    private RunningSidecar? _sidecar;
    private ScriptedUpstream? _upstream;
    private PrometheusServer? _prometheus;

    public PrometheusServerTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    [ToolFact("prometheus")]
    public async Task Scrape_RetriedMetrics_AppearInPrometheusQuery()
    {
        var binary = ExternalTool.Require("prometheus");

        var targetPort = await StartSidecarAppAsync();
        var metrics = _app!.Services.GetRequiredService<SidecarMetrics>();
        for (var i = 0; i < 7; i++)
        {
            metrics.Retried("orders-read", "503");
        }

        _prometheus = PrometheusServer.Start(binary, targetPort, _output);

        var retries = await _prometheus.WaitForSampleAsync("sidecar_retries_total", "7");
        Assert.Equal("orders-read", retries.Labels["route"]);
        Assert.Equal("503", retries.Labels["reason"]);

        // Alerts on reload failures must see 0, not "no data", before the first failure.
        var reloadFailures = await _prometheus.WaitForSampleAsync("sidecar_config_reloads_total{result=\"failure\"}", "0");
        Assert.Equal("failure", reloadFailures.Labels["result"]);
    }

    [ToolFact("prometheus")]
    public async Task Scrape_RealSidecarAfterRetries_RetriesReadBackThroughQueryApi()
    {
        var binary = ExternalTool.Require("prometheus");

        // Odd requests fail: each request of the client is answered on its second attempt.
        _upstream = ScriptedUpstream.Cycle(Response.Create().WithStatusCode(503).WithBody("x"), Response.Create().WithBody("x"));
        _sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{_upstream.Url}}] }
            policies:
              p:
                max_attempts: 3
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            routes:
              - name: orders-read
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            """);
        for (var i = 0; i < 4; i++)
        {
            using var response = await _sidecar.Proxy.GetAsync("/orders/" + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        _prometheus = PrometheusServer.Start(binary, _sidecar.Admin.BaseAddress!.Port, _output);

        var retries = await _prometheus.WaitForSampleAsync("sidecar_retries_total", "4");
        Assert.Equal("orders-read", retries.Labels["route"]);
        Assert.Equal("503", retries.Labels["reason"]);
        Assert.Equal("sidecar", retries.Labels["job"]);

        var afterRetry = await _prometheus.WaitForSampleAsync("sum by (route) (sidecar_requests_total{outcome=\"success_after_retry\"})", "4");
        Assert.Equal("orders-read", afterRetry.Labels["route"]);

        // Prometheus asks for OpenMetrics, whose counters and histograms carry a _created sample: stored as series too.
        await _prometheus.WaitForSampleAsync("count(sidecar_retries_created)", "1");
    }

    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        _upstream?.Dispose();
    }

    private async Task<int> StartSidecarAppAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSidecarTelemetry(builder.Configuration, new TelemetryOptions());
        _app = builder.Build();
        _app.MapPrometheusScrapingEndpoint("/metrics");
        await _app.StartAsync();

        var address = _app.Urls.Single();
        return new Uri(address).Port;
    }
}
