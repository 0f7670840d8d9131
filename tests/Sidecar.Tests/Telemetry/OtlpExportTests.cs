using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class OtlpExportTests
{
    [Theory]
    [InlineData(null, false, false)]
    [InlineData("OTEL_EXPORTER_OTLP_ENDPOINT", true, true)]
    [InlineData("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", true, true)]
    [InlineData("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", true, false)]
    [InlineData("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", true, false)]
    [InlineData("OTEL_EXPORTER_OTLP_PROTOCOL", false, false)]
    public void From_OneVariableSet_EnablesExportAndSpansOnlyForEndpoints(string? variable, bool enabled, bool traces)
    {
        var values = new Dictionary<string, string?>();
        if (variable is not null)
        {
            values[variable] = variable.EndsWith("PROTOCOL", StringComparison.Ordinal) ? "http/protobuf" : "http://127.0.0.1:4318";
        }

        var export = OtlpExport.From(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

        Assert.Equal(new OtlpExport(enabled, traces), export);
    }

    [Fact]
    public void From_BlankEndpoint_CountsAsUnset()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "  " })
            .Build();

        Assert.Equal(new OtlpExport(false, false), OtlpExport.From(configuration));
    }
}
