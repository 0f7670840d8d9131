namespace Sidecar.Tests.Telemetry;

public sealed class SidecarMetricsTests
{
    // SPEC §5: the Prometheus names operators write queries against.
    [Theory]
    [InlineData("sidecar_requests_total", "counter")]
    [InlineData("sidecar_upstream_attempts_total", "counter")]
    [InlineData("sidecar_retries_total", "counter")]
    [InlineData("sidecar_retries_skipped_total", "counter")]
    [InlineData("sidecar_request_attempts", "histogram")]
    [InlineData("sidecar_request_duration_seconds", "histogram")]
    [InlineData("sidecar_upstream_attempt_duration_seconds", "histogram")]
    [InlineData("sidecar_backoff_seconds", "histogram")]
    [InlineData("sidecar_retry_budget_exhausted_total", "counter")]
    [InlineData("sidecar_retry_after_honored_total", "counter")]
    [InlineData("sidecar_config_reloads_total", "counter")]
    [InlineData("sidecar_inflight_requests", "gauge")]
    [InlineData("sidecar_buffered_bytes", "gauge")]
    [InlineData("sidecar_circuit_open_total", "counter")]
    public void EveryMethod_ExportsSpecName(string name, string type)
    {
        using var context = new MetricsTestContext();
        var metrics = context.Metrics;
        var elapsed = TimeSpan.FromMilliseconds(20);

        metrics.RequestStarted();
        metrics.RequestCompleted("r", "p", "GET", "success", "2xx", 1, elapsed);
        metrics.AttemptCompleted("r", "c", "2xx", elapsed);
        metrics.Retried("r", "503");
        metrics.RetrySkipped("r", "budget");
        metrics.BackoffSlept("r", elapsed);
        metrics.RetryBudgetExhausted("c");
        metrics.RetryAfterHonored("r");
        metrics.ConfigReloaded(success: true);
        metrics.BufferedBytesChanged(10);
        metrics.CircuitOpened("c");

        Assert.Contains($"# TYPE {name} {type}\n", context.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterAndRouteConfigured_PublishAlertSeriesAtZero()
    {
        using var context = new MetricsTestContext();

        context.Metrics.ClusterConfigured("orders");
        context.Metrics.RouteConfigured("orders-read");
        context.Metrics.ClusterConfigured("orders");

        var text = context.Render();
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"orders\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_circuit_open_total{cluster=\"orders\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_retry_after_honored_total{route=\"orders-read\"} 0\n", text, StringComparison.Ordinal);
    }
}
