using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Sidecar.Telemetry;

/// <summary>Registers Sidecar's metrics, the Prometheus exporter and the OTLP export.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SidecarMetrics"/>, <see cref="PrometheusExporter"/> (serve it with
    /// <see cref="PrometheusEndpoint.MapPrometheusMetrics"/>) and <see cref="OpenTelemetryExport"/>
    /// (configured from <c>OTEL_*</c> environment variables), all singletons. Both exporters are
    /// created before <see cref="SidecarMetrics"/> so that they see every measurement, including
    /// the zero-valued series it publishes at creation, and a hosted service creates all three when
    /// the host starts.
    /// </summary>
    public static IServiceCollection AddSidecarTelemetry(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddMetrics();
        services.TryAddSingleton(static sp => new PrometheusExporter(sp.GetRequiredService<IMeterFactory>()));
        services.TryAddSingleton(static _ => new OpenTelemetryExport(OpenTelemetryExportOptions.FromEnvironment()));
        services.TryAddSingleton(static sp =>
        {
            _ = sp.GetRequiredService<PrometheusExporter>();
            _ = sp.GetRequiredService<OpenTelemetryExport>();
            return new SidecarMetrics(sp.GetRequiredService<IMeterFactory>());
        });
        services.AddHostedService<TelemetryHostedService>();
        return services;
    }
}
