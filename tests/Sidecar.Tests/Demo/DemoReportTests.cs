using Sidecar.Demo;

namespace Sidecar.Tests.Demo;

public sealed class DemoReportTests
{
    private static readonly DemoColumn With = new()
    {
        Requests = 200,
        Successes = 194,
        UpstreamRequests = 300,
        UpstreamSuccesses = 194,
        Attempts = [130, 50, 20],
        Retries = 100,
        RefusedRetries = 0,
        MetricAnswered = 200,
        MetricFailed = 6,
        P50 = TimeSpan.FromMilliseconds(1.5),
        P99 = TimeSpan.FromMilliseconds(520),
    };

    private static readonly DemoColumn Without = new()
    {
        Requests = 200,
        Successes = 140,
        UpstreamRequests = 200,
        UpstreamSuccesses = 140,
        Attempts = [200, 0, 0],
        Retries = 0,
        RefusedRetries = 0,
        MetricAnswered = 200,
        MetricFailed = 60,
        P50 = TimeSpan.FromMilliseconds(0.9),
        P99 = TimeSpan.FromMilliseconds(1500),
    };

    private static string[] Lines(DemoResult result) => DemoReport.Render(result).Split(Environment.NewLine);

    private static DemoResult Result(DemoColumn? with = null, DemoColumn? without = null, bool interrupted = false) =>
        new(new DemoOptions(), TimeSpan.FromSeconds(10), with ?? With, without ?? Without, interrupted);

    [Fact]
    public void Render_RecordedColumns_PrintsTableSideBySide()
    {
        var lines = Lines(Result());

        Assert.Equal("Sidecar demo: 10.0 s of GET traffic, 8 callers alternating between two routes", lines[0]);
        Assert.Equal("  upstream                built in: 30% 503 + Retry-After: 0, 5% slow (1.5 s)", lines[1]);
        Assert.Contains("                                with retries  without retries", lines);
        Assert.Contains("  caller success (2xx)                 97.0%            70.0%", lines);
        Assert.Contains("  caller requests                        200              200", lines);
        Assert.Contains("  5xx (sidecar_requests_total)          3.0%            30.0%", lines);
        Assert.Contains("  upstream success (2xx)               64.7%            70.0%", lines);
        Assert.Contains("  upstream requests                      300              200", lines);
        Assert.Contains("  upstream requests per call            1.50             1.00", lines);
        Assert.Contains("  latency p50                         1.5 ms           0.9 ms", lines);
        Assert.Contains("  latency p99                         520 ms           1.50 s", lines);
    }

    [Fact]
    public void Render_RecordedColumns_PrintsAttemptHistogramWithBars()
    {
        var lines = Lines(Result());

        var header = Array.IndexOf(lines, "  attempts per request");
        Assert.True(header > 0);
        Assert.Equal("                with retries                    without retries", lines[header + 1]);
        Assert.Equal("    1 attempt   ##########......  65.0%   130   ################ 100.0%   200", lines[header + 2]);
        Assert.Equal("    2 attempts  ####............  25.0%    50   ................   0.0%     0", lines[header + 3]);
        Assert.Equal("    3 attempts  ##..............  10.0%    20   ................   0.0%     0", lines[header + 4]);
    }

    [Fact]
    public void Render_RecordedColumns_PrintsBudgetAndSummary()
    {
        var lines = Lines(Result());

        Assert.Contains("  retry budget: 20% of upstream requests, at least 10/s.", lines);
        Assert.Contains("  Used 100 retries (0.50 per request);", lines);
        Assert.Contains("  no request was refused a retry.", lines);
        Assert.Contains("  Retries: caller success 70.0% -> 97.0% for 1.50 upstream requests per call.", lines);
    }

    [Fact]
    public void Render_RetriesRefused_SaysHowMany()
    {
        var lines = Lines(Result(with: With with { RefusedRetries = 5 }));

        Assert.Contains("  5 requests got a 503 back early: the budget refused their retry.", lines);
    }

    [Fact]
    public void Render_NoRequests_PrintsDashes()
    {
        var empty = DemoColumn.From([], 0, 0, maxAttempts: 3);

        var lines = Lines(Result(empty, empty));

        Assert.Contains("  caller success (2xx)                     -                -", lines);
        Assert.Contains("  latency p99                              -                -", lines);
        Assert.Contains("    1 attempt   ................      -     0   ................      -     0", lines);
    }

    [Fact]
    public void Render_Interrupted_SaysSo()
    {
        var lines = Lines(Result(interrupted: true));

        Assert.Equal("  (stopped early by Ctrl+C: these are the requests answered until then)", lines[1]);
    }

    [Fact]
    public void Render_AnyResult_IsPlainAsciiWithin80Columns()
    {
        var text = DemoReport.Render(Result(with: With with { RefusedRetries = 12345 }));

        Assert.All(text.Split(Environment.NewLine), line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        Assert.All(text, c => Assert.True(c < 128, $"non-ASCII '{c}'"));
    }

    [Theory]
    [InlineData(0, 0, "................")]
    [InlineData(0, 10, "................")]
    [InlineData(10, 10, "################")]
    [InlineData(1, 1000, "#...............")]
    [InlineData(1, 2, "########........")]
    [InlineData(1, 3, "#####...........")]
    public void Bar_Share_FillsProportionallyAndShowsAnyNonZeroCount(int count, int total, string expected) =>
        Assert.Equal(expected, DemoReport.Bar(count, total));

    [Theory]
    [InlineData(0.42, "0.4 ms")]
    [InlineData(9.94, "9.9 ms")]
    [InlineData(12.6, "13 ms")]
    [InlineData(999.4, "999 ms")]
    [InlineData(1500, "1.50 s")]
    public void Latency_Milliseconds_FormatsWithUnit(double milliseconds, string expected) =>
        Assert.Equal(expected, DemoReport.Latency(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void Latency_Null_IsDash() => Assert.Equal("-", DemoReport.Latency(null));

    [Theory]
    [InlineData(0, 0, "-")]
    [InlineData(97, 100, "97.0%")]
    [InlineData(2, 3, "66.7%")]
    public void Ratio_PartOfWhole_IsPercentWithOneDecimal(int part, int whole, string expected) =>
        Assert.Equal(expected, DemoReport.Ratio(part, whole));
}
