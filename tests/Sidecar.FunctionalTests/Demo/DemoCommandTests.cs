using System.Globalization;
using System.Text.RegularExpressions;
using Sidecar.Demo;

namespace Sidecar.FunctionalTests.Demo;

public sealed partial class DemoCommandTests
{
    [Fact]
    public async Task RunAsync_TwoSeconds_PrintsBothColumnsAndRetriesRaiseCallerSuccess()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var progress = new StringWriter(CultureInfo.InvariantCulture);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var exitCode = await DemoCommand.RunAsync(
            new DemoOptions { Duration = TimeSpan.FromSeconds(2), FailureRate = 0.3 },
            output,
            progress,
            interactiveProgress: false,
            timeout.Token);

        var report = output.ToString();
        Assert.Equal(0, exitCode);
        Assert.Contains("with retries", report, StringComparison.Ordinal);
        Assert.Contains("without retries", report, StringComparison.Ordinal);
        Assert.Contains("attempts per request", report, StringComparison.Ordinal);
        Assert.Contains("latency p99", report, StringComparison.Ordinal);
        var success = CallerSuccess().Match(report);
        Assert.True(success.Success, report);
        var with = double.Parse(success.Groups["with"].Value, CultureInfo.InvariantCulture);
        var without = double.Parse(success.Groups["without"].Value, CultureInfo.InvariantCulture);
        Assert.True(with > without, $"with retries {with}% should beat without {without}%:\n{report}");

        // Sidecar's own sidecar_requests_total agrees with the callers: on the route without retries every caller
        // got a 200 or the upstream's 503, so the metric's 5xx share is the rest of the callers' success.
        var metric = MetricFailures().Match(report);
        Assert.True(metric.Success, report);
        var metricWithout = double.Parse(metric.Groups["without"].Value, CultureInfo.InvariantCulture);
        Assert.True(without < 100, $"the flaky upstream answered no 503 on the route without retries:\n{report}");
        Assert.InRange(metricWithout + without, 99.9, 100.1);
        Assert.DoesNotContain("\r", progress.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CancelledAtOnce_ExitsZeroAndStopsEverything()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var exitCode = await DemoCommand.RunAsync(new DemoOptions { Duration = TimeSpan.FromSeconds(2) }, output, TextWriter.Null, interactiveProgress: false, cancelled.Token);

        Assert.Equal(0, exitCode);
    }

    [Fact]
    public async Task RunAsync_CancelledMidRun_PrintsWhatItHasAndExitsZero()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var ctrlC = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        // The first progress line comes two seconds into the traffic: press "Ctrl+C" then.
        using var progress = new CancelOnFirstLine(ctrlC);
        var started = DateTimeOffset.UtcNow;

        var exitCode = await DemoCommand.RunAsync(new DemoOptions { Duration = TimeSpan.FromSeconds(60) }, output, progress, interactiveProgress: false, ctrlC.Token);

        Assert.Equal(0, exitCode);
        Assert.True(DateTimeOffset.UtcNow - started < TimeSpan.FromSeconds(20));
        var report = output.ToString();
        Assert.Contains("stopped early by Ctrl+C", report, StringComparison.Ordinal);
        Assert.Matches(CallerSuccess(), report);
    }

    [GeneratedRegex(@"caller success \(2xx\)\s+(?<with>[0-9.]+)%\s+(?<without>[0-9.]+)%")]
    private static partial Regex CallerSuccess();

    [GeneratedRegex(@"5xx \(sidecar_requests_total\)\s+(?<with>[0-9.]+)%\s+(?<without>[0-9.]+)%")]
    private static partial Regex MetricFailures();

    private sealed class CancelOnFirstLine(CancellationTokenSource source) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            source.Cancel();
        }
    }
}
