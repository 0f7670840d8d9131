using System.Text;
using OpenTelemetry.Metrics;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// Sidecar's telemetry registered in a container of its own, as the proxy host registers it (so parallel tests never
/// see each other's series), and the admin port's scrape pipeline run in memory on it.
/// </summary>
internal sealed class MetricsTestContext : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly RequestDelegate _scrape;

    public MetricsTestContext(TelemetryOptions? telemetry = null)
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddSidecarTelemetry(new ConfigurationBuilder().Build(), telemetry ?? new TelemetryOptions())
            .BuildServiceProvider();
        Metrics = _services.GetRequiredService<SidecarMetrics>();
        var app = new ApplicationBuilder(_services);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(_services.GetRequiredService<MeterProvider>(), predicate: null, path: "/metrics", configureBranchedPipeline: null, optionsName: null);
        _scrape = app.Build();
    }

    public SidecarMetrics Metrics { get; }

    /// <summary>What a scrape of <c>/metrics</c> answers now, as Prometheus text.</summary>
    public string Render(string? accept = null)
    {
        var context = new DefaultHttpContext { RequestServices = _services };
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/metrics";
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        using var body = new MemoryStream();
        context.Response.Body = body;
        _scrape(context).GetAwaiter().GetResult();
        Assert.Equal(StatusCodes.Status200OK, context.Response.StatusCode);
        return Encoding.UTF8.GetString(body.ToArray());
    }

    public void Dispose() => _services.Dispose();
}
