using OpenTelemetry.Exporter;

namespace Sidecar.Telemetry;

/// <summary>
/// What <see cref="OpenTelemetryExport"/> sends where. In production this comes from the standard
/// <c>OTEL_*</c> environment variables (<see cref="FromEnvironment"/>); tests set endpoints explicitly
/// because environment variables are process-wide.
/// </summary>
internal sealed record OpenTelemetryExportOptions
{
    /// <summary>The default <c>service.name</c>, unless <c>OTEL_SERVICE_NAME</c> or <c>OTEL_RESOURCE_ATTRIBUTES</c> set one.</summary>
    public const string DefaultServiceName = "sidecar";

    /// <summary>Nothing is exported.</summary>
    public static readonly OpenTelemetryExportOptions Disabled = new();

    /// <summary>Export the Sidecar meter over OTLP.</summary>
    public bool ExportMetrics { get; init; }

    /// <summary>Export the Sidecar activity source over OTLP.</summary>
    public bool ExportTraces { get; init; }

    /// <summary>
    /// The full metrics URL (with <c>/v1/metrics</c> for http/protobuf). Null: the OTLP exporter reads
    /// <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c> / <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> itself.
    /// </summary>
    public Uri? MetricsEndpoint { get; init; }

    /// <summary>The full traces URL; null: from <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> / <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>.</summary>
    public Uri? TracesEndpoint { get; init; }

    /// <summary>The OTLP protocol; null: from <c>OTEL_EXPORTER_OTLP_PROTOCOL</c> (default gRPC).</summary>
    public OtlpExportProtocol? Protocol { get; init; }

    /// <summary>The metric export interval; null: from <c>OTEL_METRIC_EXPORT_INTERVAL</c> (default 60 s).</summary>
    public TimeSpan? MetricExportInterval { get; init; }

    /// <summary>Reads the <c>OTEL_*</c> variables that decide whether each signal is exported.</summary>
    /// <param name="getVariable">Reads a variable; <see cref="Environment.GetEnvironmentVariable(string)"/> by default.</param>
    public static OpenTelemetryExportOptions FromEnvironment(Func<string, string?>? getVariable = null)
    {
        getVariable ??= Environment.GetEnvironmentVariable;
        if (string.Equals(getVariable("OTEL_SDK_DISABLED")?.Trim(), "true", StringComparison.OrdinalIgnoreCase))
        {
            return Disabled;
        }

        var anyEndpoint = IsSet(getVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        return new OpenTelemetryExportOptions
        {
            ExportMetrics = (anyEndpoint || IsSet(getVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")))
                && !IsNone(getVariable("OTEL_METRICS_EXPORTER")),
            ExportTraces = (anyEndpoint || IsSet(getVariable("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")))
                && !IsNone(getVariable("OTEL_TRACES_EXPORTER")),
        };
    }

    private static bool IsSet(string? value) => !string.IsNullOrWhiteSpace(value);

    private static bool IsNone(string? value) => string.Equals(value?.Trim(), "none", StringComparison.OrdinalIgnoreCase);
}
