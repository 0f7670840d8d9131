using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class OpenTelemetryExportOptionsTests
{
    [Fact]
    public void FromEnvironment_NoEndpoint_ExportsNothing()
    {
        var options = OpenTelemetryExportOptions.FromEnvironment(Variables());

        Assert.False(options.ExportMetrics);
        Assert.False(options.ExportTraces);
    }

    [Fact]
    public void FromEnvironment_GeneralEndpoint_ExportsBoth()
    {
        var options = OpenTelemetryExportOptions.FromEnvironment(Variables(("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")));

        Assert.True(options.ExportMetrics);
        Assert.True(options.ExportTraces);
        Assert.Null(options.MetricsEndpoint);
    }

    [Fact]
    public void FromEnvironment_SignalEndpoints_ExportOnlyThatSignal()
    {
        var metrics = OpenTelemetryExportOptions.FromEnvironment(Variables(("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:4318/v1/metrics")));
        var traces = OpenTelemetryExportOptions.FromEnvironment(Variables(("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")));

        Assert.True(metrics.ExportMetrics);
        Assert.False(metrics.ExportTraces);
        Assert.False(traces.ExportMetrics);
        Assert.True(traces.ExportTraces);
    }

    [Fact]
    public void FromEnvironment_ExporterNoneOrSdkDisabled_TurnsSignalsOff()
    {
        var none = OpenTelemetryExportOptions.FromEnvironment(Variables(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_TRACES_EXPORTER", "none")));
        var disabled = OpenTelemetryExportOptions.FromEnvironment(Variables(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"), ("OTEL_SDK_DISABLED", "true")));

        Assert.True(none.ExportMetrics);
        Assert.False(none.ExportTraces);
        Assert.False(disabled.ExportMetrics);
        Assert.False(disabled.ExportTraces);
    }

    [Fact]
    public void Constructor_Disabled_CreatesNoProvider()
    {
        using var export = new OpenTelemetryExport(OpenTelemetryExportOptions.Disabled);

        Assert.False(export.ExportsMetrics);
        Assert.False(export.ExportsTraces);
    }

    private static Func<string, string?> Variables(params (string Name, string Value)[] variables)
    {
        var map = variables.ToDictionary(v => v.Name, v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}
