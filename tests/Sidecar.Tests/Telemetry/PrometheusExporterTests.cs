using System.Diagnostics.Metrics;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class PrometheusExporterTests
{
    // Series that SidecarMetrics publishes at 0 on creation; present in every rendering.
    private const string ZeroSeries =
        "# HELP sidecar_buffered_bytes Request body bytes currently buffered for replay.\n" +
        "# TYPE sidecar_buffered_bytes gauge\n" +
        "sidecar_buffered_bytes 0\n" +
        "# HELP sidecar_config_reloads_total Configuration reloads, by result.\n" +
        "# TYPE sidecar_config_reloads_total counter\n" +
        "sidecar_config_reloads_total{result=\"failure\"} 0\n" +
        "sidecar_config_reloads_total{result=\"success\"} 0\n" +
        "# HELP sidecar_inflight_requests Requests currently being proxied, retries included.\n" +
        "# TYPE sidecar_inflight_requests gauge\n" +
        "sidecar_inflight_requests 0\n";

    [Fact]
    public void WriteTo_NothingRecorded_WritesOnlyZeroSeries()
    {
        using var context = new MetricsTestContext();

        Assert.Equal(ZeroSeries, context.Render());
    }

    [Fact]
    public void WriteTo_Counter_WritesHelpTypeAndTotalPerTagSet()
    {
        using var context = new MetricsTestContext();

        context.Metrics.Retried("orders-read", "503");
        context.Metrics.Retried("orders-read", "503");
        context.Metrics.Retried("orders-read", "connect_failure");
        context.Metrics.Retried("billing", "503");
        context.Metrics.ConfigReloaded(success: false);

        var text = context.Render();

        Assert.Contains(
            "# HELP sidecar_retries_total Retries made, by route and the reason of the retry.\n" +
            "# TYPE sidecar_retries_total counter\n" +
            "sidecar_retries_total{reason=\"503\",route=\"billing\"} 1\n" +
            "sidecar_retries_total{reason=\"503\",route=\"orders-read\"} 2\n" +
            "sidecar_retries_total{reason=\"connect_failure\",route=\"orders-read\"} 1\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("sidecar_config_reloads_total{result=\"failure\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_config_reloads_total{result=\"success\"} 0\n", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), line => line == "# TYPE sidecar_retries_total counter");
    }

    [Fact]
    public void WriteTo_UpDownCounter_WritesGaugeWithoutTotal()
    {
        using var context = new MetricsTestContext();

        context.Metrics.RequestStarted();
        context.Metrics.RequestStarted();
        context.Metrics.RequestStarted();
        context.Metrics.RequestEnded();
        context.Metrics.BufferedBytesChanged(4096);
        context.Metrics.BufferedBytesChanged(-1024);

        var text = context.Render();

        Assert.Contains("# TYPE sidecar_inflight_requests gauge\nsidecar_inflight_requests 2\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE sidecar_buffered_bytes gauge\nsidecar_buffered_bytes 3072\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_Histogram_WritesCumulativeBucketsSumAndCount()
    {
        using var context = new MetricsTestContext();
        var histogram = context.Meter.CreateHistogram<double>(
            "test.latency", "s", "Test latency.", tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 1, 2.5] });

        histogram.Record(0.05, new KeyValuePair<string, object?>("route", "a"));
        histogram.Record(0.1, new KeyValuePair<string, object?>("route", "a"));
        histogram.Record(2, new KeyValuePair<string, object?>("route", "a"));
        histogram.Record(7.25, new KeyValuePair<string, object?>("route", "a"));
        histogram.Record(0.5, new KeyValuePair<string, object?>("route", "b"));

        var text = context.Render();

        Assert.Contains(
            "# HELP test_latency_seconds Test latency.\n" +
            "# TYPE test_latency_seconds histogram\n" +
            "test_latency_seconds_bucket{route=\"a\",le=\"0.1\"} 2\n" +
            "test_latency_seconds_bucket{route=\"a\",le=\"1\"} 2\n" +
            "test_latency_seconds_bucket{route=\"a\",le=\"2.5\"} 3\n" +
            "test_latency_seconds_bucket{route=\"a\",le=\"+Inf\"} 4\n" +
            "test_latency_seconds_sum{route=\"a\"} 9.4\n" +
            "test_latency_seconds_count{route=\"a\"} 4\n" +
            "test_latency_seconds_bucket{route=\"b\",le=\"0.1\"} 0\n" +
            "test_latency_seconds_bucket{route=\"b\",le=\"1\"} 1\n" +
            "test_latency_seconds_bucket{route=\"b\",le=\"2.5\"} 1\n" +
            "test_latency_seconds_bucket{route=\"b\",le=\"+Inf\"} 1\n" +
            "test_latency_seconds_sum{route=\"b\"} 0.5\n" +
            "test_latency_seconds_count{route=\"b\"} 1\n",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_IntHistogramWithAdvice_UsesAdvisedBuckets()
    {
        using var context = new MetricsTestContext();

        context.Metrics.RequestCompleted("orders-read", "default", "GET", "success_after_retry", "2xx", 3, TimeSpan.FromMilliseconds(120));

        var text = context.Render();

        Assert.Contains(
            "# TYPE sidecar_request_attempts histogram\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"1\"} 0\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"2\"} 0\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"3\"} 1\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"4\"} 1\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"5\"} 1\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"10\"} 1\n" +
            "sidecar_request_attempts_bucket{route=\"orders-read\",le=\"+Inf\"} 1\n" +
            "sidecar_request_attempts_sum{route=\"orders-read\"} 3\n" +
            "sidecar_request_attempts_count{route=\"orders-read\"} 1\n",
            text,
            StringComparison.Ordinal);
        Assert.Contains("sidecar_request_duration_seconds_bucket{route=\"orders-read\",le=\"0.1\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_request_duration_seconds_bucket{route=\"orders-read\",le=\"0.25\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_request_duration_seconds_bucket{route=\"orders-read\",le=\"30\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_request_duration_seconds_sum{route=\"orders-read\"} 0.12\n", text, StringComparison.Ordinal);
        Assert.Contains(
            "sidecar_requests_total{method=\"GET\",outcome=\"success_after_retry\",policy=\"default\",route=\"orders-read\",status_class=\"2xx\"} 1\n",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_LabelValueWithQuoteBackslashNewline_IsEscaped()
    {
        using var context = new MetricsTestContext();

        context.Metrics.RetryAfterHonored("a\"b\\c\nd");

        Assert.Contains(
            "sidecar_retry_after_honored_total{route=\"a\\\"b\\\\c\\nd\"} 1\n",
            context.Render(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_HelpWithBackslashAndNewline_IsEscaped()
    {
        using var context = new MetricsTestContext();
        var counter = context.Meter.CreateCounter<long>("test.escaped", unit: null, description: "Line one\nC:\\path \"quoted\"");

        counter.Add(1);

        Assert.Contains(
            "# HELP test_escaped_total Line one\\nC:\\\\path \"quoted\"\n# TYPE test_escaped_total counter\ntest_escaped_total 1\n",
            context.Render(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void Record_SameTagsInAnotherOrder_IsOneSeries()
    {
        using var context = new MetricsTestContext();
        var counter = context.Meter.CreateCounter<long>("test.ordered");

        counter.Add(1, new KeyValuePair<string, object?>("a", "x"), new KeyValuePair<string, object?>("b", "y"));
        counter.Add(2, new KeyValuePair<string, object?>("b", "y"), new KeyValuePair<string, object?>("a", "x"));
        counter.Add(4, new KeyValuePair<string, object?>("a", "x"));

        Assert.Contains(
            "# TYPE test_ordered_total counter\ntest_ordered_total{a=\"x\"} 4\ntest_ordered_total{a=\"x\",b=\"y\"} 3\n",
            context.Render(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_OtherMetersAndOtherFactories_AreNotExported()
    {
        using var context = new MetricsTestContext();
        using var unscoped = new Meter(SidecarMetrics.MeterName);
        using var otherContext = new MetricsTestContext();
        context.MeterFactory.Create("Other").CreateCounter<long>("other.requests").Add(1);
        unscoped.CreateCounter<long>("unscoped.requests").Add(1);
        otherContext.Metrics.Retried("orders-read", "503");

        var text = context.Render();

        Assert.Equal(ZeroSeries, text);
        Assert.Contains("sidecar_retries_total", otherContext.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_ObservableGauge_WritesValueReadAtScrape()
    {
        using var context = new MetricsTestContext();
        var value = 1.5;
        context.Meter.CreateObservableGauge("test.queue", () => value, "{request}", "Queued.");

        Assert.Contains("# TYPE test_queue gauge\ntest_queue 1.5\n", context.Render(), StringComparison.Ordinal);
        value = 3;
        Assert.Contains("test_queue 3\n", context.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public void WriteTo_FloatsAreInvariant()
    {
        var culture = Thread.CurrentThread.CurrentCulture;
        var commaDecimal = (System.Globalization.CultureInfo)System.Globalization.CultureInfo.InvariantCulture.Clone();
        commaDecimal.NumberFormat.NumberDecimalSeparator = ",";
        commaDecimal.NumberFormat.PositiveInfinitySymbol = "∞";
        Thread.CurrentThread.CurrentCulture = commaDecimal;
        try
        {
            using var context = new MetricsTestContext();
            context.Metrics.BackoffSlept("r", TimeSpan.FromMilliseconds(1500));

            var text = context.Render();

            Assert.Contains("sidecar_backoff_seconds_sum{route=\"r\"} 1.5\n", text, StringComparison.Ordinal);
            Assert.Contains("sidecar_backoff_seconds_bucket{route=\"r\",le=\"0.0025\"} 0\n", text, StringComparison.Ordinal);
            Assert.Contains("sidecar_backoff_seconds_bucket{route=\"r\",le=\"+Inf\"} 1\n", text, StringComparison.Ordinal);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = culture;
        }
    }

    [Fact]
    public void Record_ExistingSeries_DoesNotAllocate()
    {
        using var context = new MetricsTestContext();
        var metrics = context.Metrics;
        var elapsed = TimeSpan.FromMilliseconds(12);
        for (var i = 0; i < 100; i++)
        {
            RecordAll(metrics, elapsed);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            RecordAll(metrics, elapsed);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Record_ConcurrentWriters_LoseNoIncrement()
    {
        using var context = new MetricsTestContext();

        Parallel.For(0, 8, _ =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                context.Metrics.Retried("orders-read", "503");
                context.Metrics.BackoffSlept("orders-read", TimeSpan.FromMilliseconds(1));
            }
        });

        var text = context.Render();
        Assert.Contains("sidecar_retries_total{reason=\"503\",route=\"orders-read\"} 80000\n", text, StringComparison.Ordinal);
        Assert.Contains("sidecar_backoff_seconds_count{route=\"orders-read\"} 80000\n", text, StringComparison.Ordinal);
    }

    private static void RecordAll(SidecarMetrics metrics, TimeSpan elapsed)
    {
        metrics.RequestStarted();
        metrics.AttemptCompleted("orders-read", "orders", "5xx", elapsed);
        metrics.Retried("orders-read", "503");
        metrics.BackoffSlept("orders-read", elapsed);
        metrics.RetryAfterHonored("orders-read");
        metrics.AttemptCompleted("orders-read", "orders", "2xx", elapsed);
        metrics.RequestCompleted("orders-read", "default", "GET", "success_after_retry", "2xx", 2, elapsed);
        metrics.RequestEnded();
    }
}
