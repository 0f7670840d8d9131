using System.Buffers;
using System.Diagnostics.Metrics;
using System.Text;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// A private meter factory (so parallel tests never see each other's series), a Prometheus exporter
/// on it, and <see cref="SidecarMetrics"/> created after the exporter, as in production.
/// </summary>
internal sealed class MetricsTestContext : IDisposable
{
    private readonly ServiceProvider _services;

    public MetricsTestContext()
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _services.GetRequiredService<IMeterFactory>();
        Exporter = new PrometheusExporter(MeterFactory);
        Metrics = new SidecarMetrics(MeterFactory);
    }

    public IMeterFactory MeterFactory { get; }

    public PrometheusExporter Exporter { get; }

    public SidecarMetrics Metrics { get; }

    /// <summary>The "Sidecar" meter of this context's factory, for instruments a test defines itself.</summary>
    public Meter Meter => MeterFactory.Create(SidecarMetrics.MeterName);

    public string Render()
    {
        var buffer = new ArrayBufferWriter<byte>();
        Exporter.WriteTo(buffer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public void Dispose()
    {
        Exporter.Dispose();
        _services.Dispose();
    }
}
