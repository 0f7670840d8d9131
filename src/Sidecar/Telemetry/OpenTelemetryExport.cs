using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Sidecar.Telemetry;

/// <summary>
/// Sends the Sidecar meter and activity source over OTLP when an OTLP endpoint is configured
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or a signal-specific one); otherwise does nothing and costs nothing.
/// Disposing flushes and shuts down both providers. Owned by DI, created at startup by
/// <see cref="TelemetryHostedService"/>.
/// </summary>
internal sealed class OpenTelemetryExport : IDisposable
{
    private const string AspNetCoreActivitySourceName = "Microsoft.AspNetCore";

    private static readonly TimeSpan FlushTimeout = TimeSpan.FromSeconds(5);

    private readonly MeterProvider? _meterProvider;
    private readonly TracerProvider? _tracerProvider;

    public OpenTelemetryExport(OpenTelemetryExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        if (options.ExportMetrics)
        {
            _meterProvider = Sdk.CreateMeterProviderBuilder()
                .SetResourceBuilder(CreateResource())
                .AddMeter(SidecarMetrics.MeterName)
                .AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, options.MetricsEndpoint, options.Protocol);
                    if (options.MetricExportInterval is { } interval)
                    {
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)interval.TotalMilliseconds;
                    }
                })
                .Build();
        }

        if (options.ExportTraces)
        {
            _tracerProvider = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(CreateResource())
                .AddSource(SidecarActivitySource.Name)
                // ASP.NET Core starts its request activity whenever hosting diagnostics are logged, so it is always
                // the parent of our request span. Unless it is sampled too, the default ParentBased sampler sees an
                // unsampled local parent and drops every Sidecar span. Sampling it (the server span, named after the
                // route template) also honours a caller's traceparent, which it carries.
                .AddSource(AspNetCoreActivitySourceName)
                .AddOtlpExporter(exporter => Configure(exporter, options.TracesEndpoint, options.Protocol))
                .Build();
        }
    }

    public bool ExportsMetrics => _meterProvider is not null;

    public bool ExportsTraces => _tracerProvider is not null;

    /// <summary>Exports what is pending now, e.g. before shutdown.</summary>
    public void Flush()
    {
        _meterProvider?.ForceFlush((int)FlushTimeout.TotalMilliseconds);
        _tracerProvider?.ForceFlush((int)FlushTimeout.TotalMilliseconds);
    }

    public void Dispose()
    {
        // Dispose shuts the providers down, which exports what is left.
        _tracerProvider?.Dispose();
        _meterProvider?.Dispose();
    }

    // service.name defaults to "sidecar"; OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, detected
    // after it, win when set.
    private static ResourceBuilder CreateResource() => ResourceBuilder.CreateEmpty()
        .AddService(OpenTelemetryExportOptions.DefaultServiceName, serviceVersion: typeof(OpenTelemetryExport).Assembly.GetName().Version?.ToString())
        .AddTelemetrySdk()
        .AddEnvironmentVariableDetector();

    private static void Configure(OtlpExporterOptions exporter, Uri? endpoint, OtlpExportProtocol? protocol)
    {
        if (protocol is { } value)
        {
            exporter.Protocol = value;
        }

        if (endpoint is not null)
        {
            exporter.Endpoint = endpoint;
        }
    }
}
