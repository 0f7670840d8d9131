using System.Diagnostics;
using Sidecar.Telemetry;
using Xunit.Abstractions;

namespace Sidecar.Tests.Telemetry;

public sealed class PromtoolTests
{
    private static readonly string[] Routes = ["orders-read", "orders-write", "billing \"legacy\"\\v1"];

    private readonly ITestOutputHelper _output;

    public PromtoolTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [ToolFact("promtool")]
    public async Task WriteTo_EveryInstrumentSeveralRoutes_PassesPromtoolCheckMetrics()
    {
        var promtool = ExternalTool.Require("promtool");

        using var context = new MetricsTestContext();
        RecordRealisticTraffic(context.Metrics);
        var text = context.Render();
        var file = Path.Combine(Path.GetTempPath(), $"sidecar-metrics-{Guid.NewGuid():N}.prom");
        await File.WriteAllTextAsync(file, text);
        try
        {
            var (exitCode, stdout, stderr) = await RunWithStdinAsync(promtool, "check metrics", file);

            _output.WriteLine(stdout);
            _output.WriteLine(stderr);
            Assert.True(exitCode == 0, $"promtool exited {exitCode}: {stdout}{stderr}\n--- input ---\n{text}");
            Assert.True(string.IsNullOrWhiteSpace(stdout + stderr), $"promtool reported: {stdout}{stderr}");
        }
        finally
        {
            File.Delete(file);
        }
    }

    private static void RecordRealisticTraffic(Sidecar.Telemetry.SidecarMetrics metrics)
    {
        var outcomes = new[] { RequestOutcome.Success, RequestOutcome.SuccessAfterRetry, RequestOutcome.Exhausted, RequestOutcome.DeadlineExceeded, RequestOutcome.BudgetExhausted, RequestOutcome.CircuitOpen, RequestOutcome.NotRetryable, RequestOutcome.ClientCancelled };
        var results = new[] { AttemptResult.Status2xx, AttemptResult.Status4xx, AttemptResult.Status5xx, AttemptResult.ConnectFailure, AttemptResult.Reset, AttemptResult.PerTryTimeout, AttemptResult.Cancelled };
        var reasons = new[] { "503", "429", "connect_failure", "reset", "per_try_timeout", "validation", "hedge" };
        var skipped = new[] { RetrySkipReason.Budget, RetrySkipReason.Concurrency, RetrySkipReason.BodyNotReplayable, RetrySkipReason.BackoffCap, RetrySkipReason.Deadline, RetrySkipReason.Method };
        for (var i = 0; i < Routes.Length; i++)
        {
            var route = Routes[i];
            metrics.RouteConfigured(route);
            foreach (var outcome in outcomes)
            {
                metrics.RequestStarted();
                var label = outcome.Label();
                metrics.RequestCompleted(route, "default", i == 1 ? "POST" : "GET", outcome, label.StartsWith("success", StringComparison.Ordinal) ? "2xx" : "5xx", 1 + (label.Length % 4), TimeSpan.FromMilliseconds(3 * label.Length));
                metrics.RequestEnded();
            }

            foreach (var result in results)
            {
                metrics.AttemptCompleted(route, "orders", result, TimeSpan.FromMilliseconds(result.Label().Length * 7));
            }

            foreach (var reason in reasons)
            {
                metrics.Retried(route, reason);
                metrics.BackoffSlept(route, TimeSpan.FromMilliseconds(50 * reason.Length));
            }

            foreach (var reason in skipped)
            {
                metrics.RetrySkipped(route, reason);
            }

            metrics.RetryAfterHonored(route);
        }

        metrics.ClusterConfigured("orders");
        metrics.ClusterConfigured("billing");
        metrics.RetryBudgetExhausted("orders");
        metrics.CircuitOpened("billing");
        metrics.ConfigReloaded(success: true);
        metrics.ConfigReloaded(success: false);
        metrics.BufferedBytesChanged(65536);
        metrics.RequestStarted();
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithStdinAsync(string fileName, string arguments, string stdinFile)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(await File.ReadAllTextAsync(stdinFile));
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
