namespace Sidecar.Telemetry;

/// <summary>
/// Creates the exporters when the host starts (taking them as dependencies is enough) so that they
/// listen before the first request, and flushes the OTLP export when it stops; the container
/// disposes both afterwards.
/// </summary>
internal sealed class TelemetryHostedService : IHostedService
{
    private readonly OpenTelemetryExport _openTelemetry;

    public TelemetryHostedService(PrometheusExporter prometheus, OpenTelemetryExport openTelemetry, SidecarMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(prometheus);
        ArgumentNullException.ThrowIfNull(metrics);
        _openTelemetry = openTelemetry;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _openTelemetry.Flush();
        return Task.CompletedTask;
    }
}
