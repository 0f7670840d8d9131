using System.Text.RegularExpressions;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed partial class SidecarMetricsTests
{
    // The Prometheus names operators write queries against.
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
    [InlineData("sidecar_config_last_reload_successful", "gauge")]
    [InlineData("sidecar_inflight_requests", "gauge")]
    [InlineData("sidecar_buffered_bytes", "gauge")]
    [InlineData("sidecar_circuit_open_total", "counter")]
    [InlineData("sidecar_tls_certificate_expiry_timestamp_seconds", "gauge")]
    [InlineData("sidecar_tls_reloads_total", "counter")]
    public void EveryMethod_ExportsSpecName(string name, string type)
    {
        using var context = new MetricsTestContext();
        RecordEveryInstrument(context.Metrics);

        Assert.Contains($"# TYPE {name} {type}\n", context.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void ReadmeMetricTable_EveryRow_IsExportedUnderItsNameAndType()
    {
        var rows = ReadmeMetricRows();
        using var context = new MetricsTestContext();
        RecordEveryInstrument(context.Metrics);
        var text = context.Render();

        Assert.Equal(20, rows.Count);
        foreach (var (name, type) in rows)
        {
            Assert.Contains($"# TYPE {name} {type}\n", text, StringComparison.Ordinal);
        }

        // Nothing exported that README does not document.
        var exported = TypeLine().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(rows.Select(r => r.Name).Order(StringComparer.Ordinal), exported.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Render_ExporterDefaultsTurnedOff_NoScopeLabelsNoTargetInfo()
    {
        using var context = new MetricsTestContext();
        RecordEveryInstrument(context.Metrics);

        var text = context.Render();

        Assert.DoesNotContain("otel_scope_", text, StringComparison.Ordinal);
        Assert.DoesNotContain("target_info", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_requests_total{method=\"GET\",outcome=\"success\",policy=\"p\",route=\"r\",status_class=\"2xx\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RequestCompleted_GrpcCall_CarriesGrpcStatusLabelOtherRequestsDoNot()
    {
        using var context = new MetricsTestContext();

        context.Metrics.RequestCompleted("r", "p", "POST", RequestOutcome.NotRetryable, "2xx", 1, TimeSpan.FromMilliseconds(5), grpcStatus: 8);
        context.Metrics.RequestCompleted("r", "p", "GET", RequestOutcome.Success, "2xx", 1, TimeSpan.FromMilliseconds(5));

        var text = context.Render();
        Assert.Contains("sidecar_requests_total{grpc_status=\"resource_exhausted\",method=\"POST\",outcome=\"not_retryable\",policy=\"p\",route=\"r\",status_class=\"2xx\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_requests_total{method=\"GET\",outcome=\"success\",policy=\"p\",route=\"r\",status_class=\"2xx\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_DurationHistogram_UsesTheDocumentedBuckets()
    {
        using var context = new MetricsTestContext();
        context.Metrics.BackoffSlept("r", TimeSpan.FromMilliseconds(300));

        var text = context.Render();

        var bounds = BucketBound().Matches(text).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(["0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"], bounds);
        Assert.Contains("sidecar_backoff_seconds_bucket{route=\"r\",le=\"0.25\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_backoff_seconds_bucket{route=\"r\",le=\"0.5\"} 1", text, StringComparison.Ordinal);
    }

    [Fact]
    public void ClusterAndRouteConfigured_PublishAlertSeriesAtZero()
    {
        using var context = new MetricsTestContext();

        context.Metrics.ClusterConfigured("orders");
        context.Metrics.RouteConfigured("orders-read");
        context.Metrics.ClusterConfigured("orders");

        var text = context.Render();
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"orders\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_circuit_open_total{cluster=\"orders\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_retry_after_honored_total{route=\"orders-read\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_config_reloads_total{result=\"failure\"} 0", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_inflight_requests{} 0", text, StringComparison.Ordinal);
    }

    [Fact]
    public void DotnetMetrics_Off_ExportsOnlySidecarSeries()
    {
        using var context = new MetricsTestContext();

        var text = context.Render();

        Assert.All(TypeLine().Matches(text), m => Assert.StartsWith("sidecar_", m.Groups[1].Value, StringComparison.Ordinal));
    }

    [Fact]
    public void DotnetMetrics_On_ExportsTheRuntimeMeter()
    {
        using var context = new MetricsTestContext(new TelemetryOptions { DotnetMetrics = true });

        var text = context.Render();

        Assert.Contains("# TYPE dotnet_gc_collections_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_process_cpu_time_seconds_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sidecar_inflight_requests gauge\n", text, StringComparison.Ordinal);
    }

    private static void RecordEveryInstrument(Sidecar.Telemetry.SidecarMetrics metrics)
    {
        var elapsed = TimeSpan.FromMilliseconds(20);
        metrics.RequestStarted();
        metrics.RequestCompleted("r", "p", "GET", RequestOutcome.Success, "2xx", 1, elapsed);
        metrics.AttemptCompleted("r", "c", AttemptResult.Status2xx, elapsed);
        metrics.Retried("r", "503");
        metrics.RetrySkipped("r", RetrySkipReason.Budget);
        metrics.BackoffSlept("r", elapsed);
        metrics.RetryBudgetExhausted("c");
        metrics.RetryAfterHonored("r");
        metrics.ConfigReloaded(success: true);
        metrics.BufferedBytesChanged(10);
        metrics.CircuitOpened("c");
        metrics.OverloadStateChanged(1);
        metrics.OverloadShed("request_rejected");
        metrics.AccessLogDropped();
        metrics.TlsCertificateExpiry(MetricTags.Cluster, "c", CertificateKinds.Certificate, DateTimeOffset.UnixEpoch.AddDays(1));
        metrics.TlsReloaded(MetricTags.Cluster, "c", loaded: false);
    }

    /// <summary>The rows of README's metric table: <c>| `name` | type (notes) | labels | meaning |</c>.</summary>
    private static List<(string Name, string Type)> ReadmeMetricRows()
    {
        var rows = new List<(string, string)>();
        foreach (var line in RepositoryRoot.ReadAllText("README.md").Split('\n'))
        {
            if (ReadmeRow().Match(line) is { Success: true } row)
            {
                rows.Add((row.Groups[1].Value, row.Groups[2].Value));
            }
        }

        return rows;
    }

    [GeneratedRegex(@"^\| `(sidecar_[a-z_]+)` \| (counter|gauge|histogram)\b")]
    private static partial Regex ReadmeRow();

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"^sidecar_backoff_seconds_bucket\{route=""r"",le=""([^""]+)""\}", RegexOptions.Multiline)]
    private static partial Regex BucketBound();
}
