namespace Sidecar.Telemetry;

/// <summary>
/// Whether anything goes out over OTLP, read from the standard <c>OTEL_EXPORTER_OTLP_*</c> endpoint variables (from
/// the host's configuration, which holds the environment). Where each signal goes, and how, is then left to the
/// OpenTelemetry SDK's <c>UseOtlpExporter</c>, which reads every standard variable itself, signal-specific ones included.
/// </summary>
internal readonly record struct OtlpExport(bool Enabled, bool Traces)
{
    /// <summary>The endpoint of every signal, unless a signal-specific one is set.</summary>
    public const string EndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    public const string TracesEndpointVariable = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

    public const string MetricsEndpointVariable = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";

    public const string LogsEndpointVariable = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";

    /// <summary>
    /// OTLP export is on when any endpoint variable is set: with none, nothing is exported and nothing is recorded for
    /// it. Spans are recorded only when traces have a destination of their own or the common one, since each costs an
    /// allocation on the request path; metrics and logs are collected anyway (for <c>/metrics</c> and the console).
    /// </summary>
    public static OtlpExport From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);

        var common = IsSet(configuration[EndpointVariable]);
        var traces = common || IsSet(configuration[TracesEndpointVariable]);
        var enabled = traces || IsSet(configuration[MetricsEndpointVariable]) || IsSet(configuration[LogsEndpointVariable]);
        return new OtlpExport(enabled, traces);
    }

    private static bool IsSet(string? value) => !string.IsNullOrWhiteSpace(value);
}
