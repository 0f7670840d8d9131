using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class PrometheusNamingTests
{
    [Theory]
    [InlineData("sidecar.requests", "{request}", true, "sidecar_requests_total")]
    [InlineData("sidecar.request.duration", "s", false, "sidecar_request_duration_seconds")]
    [InlineData("sidecar.request.attempts", "{attempt}", false, "sidecar_request_attempts")]
    [InlineData("sidecar.buffered", "By", false, "sidecar_buffered_bytes")]
    [InlineData("sidecar.inflight_requests", "{request}", false, "sidecar_inflight_requests")]
    [InlineData("already_seconds", "s", false, "already_seconds")]
    [InlineData("already_total", null, true, "already_total")]
    [InlineData("http.server.active-requests", "", false, "http_server_active_requests")]
    [InlineData("rate", "By/s", false, "rate_bytes_per_second")]
    [InlineData("9lives", "1", false, "_9lives")]
    public void MetricName_AppliesOpenTelemetryRules(string instrument, string? unit, bool isCounter, string expected)
    {
        Assert.Equal(expected, PrometheusNaming.MetricName(instrument, unit, isCounter));
    }

    [Fact]
    public void LabelName_ReplacesInvalidCharacters()
    {
        Assert.Equal("http_request_method", PrometheusNaming.LabelName("http.request.method"));
    }
}
