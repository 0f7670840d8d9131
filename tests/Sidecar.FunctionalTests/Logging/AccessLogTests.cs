using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sidecar.FunctionalTests.TestSupport;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Logging;

/// <summary>
/// The real <c>sidecar</c> process with <c>logs.access</c> on: its stdout read line by line, the access log's JSON
/// lines told from the text log's by their <c>decision</c> field; and the <c>x-sidecar-explain</c> header a caller
/// gets on a policy with <c>allow_explain</c>.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed partial class AccessLogTests
{
    private const int SigTerm = 15;
    private const string Explain = "x-sidecar-explain";

    private readonly ITestOutputHelper _output;

    public AccessLogTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Run_FailuresWithExplain_RetriedTwiceAndBudgetStopExplainedAndLoggedSuccessNot()
    {
        // Each attempt's number reaches the upstream: /twice fails the first two, /budget always fails.
        await using var upstream = await TestUpstream.StartAsync(static (context, _) =>
        {
            var attempt = context.Request.Headers["x-sidecar-attempt"].ToString();
            var path = context.Request.Path.Value!;
            context.Response.StatusCode = path.StartsWith("/budget", StringComparison.Ordinal) || (path.StartsWith("/twice", StringComparison.Ordinal) && attempt != "3") ? 503 : 200;
            return Task.CompletedTask;
        });
        var path = await WriteConfigAsync($$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["{{upstream.Url}}"] }
            policies:
              explained:
                max_attempts: 3
                backoff: { algorithm: constant, base: 20ms, jitter: none }
                budget: { enabled: false }
                allow_explain: true
              broke:
                max_attempts: 3
                budget: { ratio: 0, min_per_second: 0 }
                allow_explain: true
              quiet:
                max_attempts: 3
            routes:
              - { name: twice, match: { path: "/twice/{**rest}" }, cluster: app, policy: explained }
              - { name: budget, match: { path: "/budget/{**rest}" }, cluster: app, policy: broke }
              - { name: quiet, match: { path: "/quiet/{**rest}" }, cluster: app, policy: quiet }
              - { name: ok, match: { path: "/ok/{**rest}" }, cluster: app, policy: explained }
            logs: { access: failures }
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        using var sidecar = SidecarProcess.Start("run", "--config", path);
        var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy };

        var twice = await SendAsync(client, "/twice/orders/7?token=secret");
        var budget = await SendAsync(client, "/budget/orders/8");
        var quiet = await SendAsync(client, "/quiet/x");
        var ok = await SendAsync(client, "/ok/x");
        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        _output.WriteLine("retried twice: " + twice.Explain);
        _output.WriteLine("budget stop:   " + budget.Explain);
        Assert.Equal(HttpStatusCode.OK, twice.Status);
        Assert.Matches(TwiceHeader(), twice.Explain);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, budget.Status);
        Assert.Matches(BudgetHeader(), budget.Explain);
        Assert.Null(quiet.Explain);
        Assert.Matches(OkHeader(), ok.Explain);
        Assert.All(upstream.Snapshot(), r => Assert.Null(r.Header(Explain)));

        var lines = AccessLines(sidecar.Output);
        foreach (var line in lines)
        {
            _output.WriteLine(line.GetRawText());
        }

        Assert.Equal(["twice", "budget"], lines.Select(l => l.GetProperty("route").GetString()));
        var retried = lines[0];
        Assert.Equal("app", retried.GetProperty("cluster").GetString());
        Assert.Equal("GET", retried.GetProperty("method").GetString());
        Assert.Equal("/twice/orders/7", retried.GetProperty("path").GetString());
        Assert.Equal(200, retried.GetProperty("status").GetInt32());
        Assert.Equal("success_after_retry", retried.GetProperty("decision").GetString());
        Assert.Equal(3, retried.GetProperty("attempt_count").GetInt32());
        var attempts = retried.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([503, 503, 200], attempts.Select(a => a.GetProperty("status").GetInt32()));
        Assert.Equal(["503", "503"], attempts.Take(2).Select(a => a.GetProperty("retry_reason").GetString()));
        Assert.Equal([20.0, 20.0], attempts.Take(2).Select(a => a.GetProperty("wait_ms").GetDouble()));
        Assert.Equal(upstream.Address.Authority, attempts[2].GetProperty("destination").GetString());
        Assert.Equal("success_after_retry", attempts[2].GetProperty("stop").GetString());
        Assert.True(retried.GetProperty("duration_ms").GetDouble() >= 40);

        var stopped = lines[1];
        Assert.Equal(503, stopped.GetProperty("status").GetInt32());
        Assert.Equal("budget_exhausted", stopped.GetProperty("decision").GetString());
        Assert.Equal("budget", stopped.GetProperty("stop_reason").GetString());
        Assert.Equal("budget", Assert.Single(stopped.GetProperty("attempts").EnumerateArray()).GetProperty("stop").GetString());
    }

    [Fact]
    public async Task Run_AllWithHedging_LineListsBothRacingAttempts()
    {
        // The first attempt to arrive anywhere hangs until cancelled: the hedge after 50ms answers, and wins.
        var calls = 0;
        Func<Microsoft.AspNetCore.Http.HttpContext, int, Task> handler = async (context, _) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
                return;
            }

            context.Response.StatusCode = 200;
        };
        await using var first = await TestUpstream.StartAsync(handler);
        await using var second = await TestUpstream.StartAsync(handler);
        var path = await WriteConfigAsync($$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["{{first.Url}}", "{{second.Url}}"] }
            policies:
              hedged:
                hedge: { delay: 50ms }
                budget: { enabled: false }
            routes:
              - { name: hedged, match: { path: "/{**rest}" }, cluster: app, policy: hedged }
            logs: { access: all }
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        using var sidecar = SidecarProcess.Start("run", "--config", path);
        var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using (var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy })
        using (var response = await client.GetAsync("/orders/1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var line = Assert.Single(AccessLines(sidecar.Output));
        _output.WriteLine(line.GetRawText());
        Assert.Equal(2, line.GetProperty("attempt_count").GetInt32());
        var attempts = line.GetProperty("attempts").EnumerateArray().ToList();
        Assert.Equal([1, 2], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal(line.GetProperty("decision").GetString(), attempts[1].GetProperty("stop").GetString());
        // Whichever attempt reached an upstream first hung; a cold first connection can let the hedge arrive first.
        var winner = Assert.Single(attempts, a => a.TryGetProperty("status", out var status) && status.GetInt32() == 200);
        var loser = Assert.Single(attempts, a => a.TryGetProperty("error", out var error) && error.GetString() == "cancelled");
        Assert.Equal(winner.GetProperty("attempt").GetInt32() == 1 ? "success" : "success_after_retry", line.GetProperty("decision").GetString());
        Assert.NotEqual(winner.GetProperty("destination").GetString(), loser.GetProperty("destination").GetString());
    }

    [Theory]
    [InlineData("off")]
    [InlineData("failures")]
    [InlineData("all")]
    public async Task Run_StormWithAccessLogMode_OneLinePerSelectedRequest(string mode)
    {
        const int Requests = 3000;
        const int Concurrency = 16;
        // Every fourth attempt fails: about a quarter of the requests are retried, a few more than once.
        await using var upstream = await TestUpstream.StartAsync(static (context, number) =>
        {
            context.Response.StatusCode = number % 4 == 0 ? 503 : 200;
            return Task.CompletedTask;
        });
        var path = await WriteConfigAsync($$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["{{upstream.Url}}"] }
            policies:
              p:
                max_attempts: 3
                backoff: { algorithm: constant, base: 1ms, jitter: none }
                budget: { enabled: false }
            routes:
              - { name: storm, match: { path: "/{**rest}" }, cluster: app, policy: p }
            logs: { access: {{mode}} }
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        using var sidecar = SidecarProcess.Start("run", "--config", path);
        var (proxy, admin) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = Concurrency }) { BaseAddress = proxy };

        var selected = 0;
        var next = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Concurrency).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= Requests)
            {
                using var response = await client.GetAsync("/orders/1");
                var retried = response.Headers.GetValues("x-sidecar-attempts").Single() != "1";
                if (mode == "all" || (mode == "failures" && (retried || (int)response.StatusCode >= 500)))
                {
                    Interlocked.Increment(ref selected);
                }
            }
        }));
        var elapsed = clock.Elapsed;
        var dropped = await DroppedAsync(admin);
        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var lines = AccessLines(sidecar.Output);
        _output.WriteLine($"logs.access: {mode}: {Requests} requests in {elapsed.TotalSeconds:F2} s ({Requests / elapsed.TotalSeconds:F0} req/s), {lines.Count} access lines ({lines.Count / elapsed.TotalSeconds:F0} lines/s), {dropped} dropped, {upstream.Count} upstream attempts");
        Assert.Equal(selected, lines.Count + dropped);
        if (mode == "failures")
        {
            Assert.All(lines, l => Assert.True(l.GetProperty("attempt_count").GetInt32() > 1 || l.GetProperty("status").GetInt32() >= 500));
        }
    }

    private static async Task<(HttpStatusCode Status, string? Explain)> SendAsync(HttpClient client, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(Explain, "1");
        using var response = await client.SendAsync(request);
        return (response.StatusCode, response.Headers.TryGetValues(Explain, out var values) ? values.Single() : null);
    }

    /// <summary>The access log's lines among stdout's: JSON objects with a <c>decision</c> (the text log's lines are not JSON).</summary>
    private static List<JsonElement> AccessLines(IEnumerable<string> output)
    {
        var lines = new List<JsonElement>();
        foreach (var line in output.Where(l => l.StartsWith('{')))
        {
            using var document = JsonDocument.Parse(line);
            if (document.RootElement.TryGetProperty("decision", out _))
            {
                lines.Add(document.RootElement.Clone());
            }
        }

        return lines;
    }

    private static async Task<long> DroppedAsync(Uri admin)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = admin };
        var text = await client.GetStringAsync("/metrics");
        var match = DroppedLine().Match(text);
        Assert.True(match.Success, "no sidecar_access_log_dropped_total sample");
        return long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<string> WriteConfigAsync(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sidecar-access-").FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    [GeneratedRegex(@"^attempt=1 dest=127\.0\.0\.1:\d+ status=503 dur=\d+ms wait=20ms reason=503; attempt=2 dest=127\.0\.0\.1:\d+ status=503 dur=\d+ms wait=20ms reason=503; attempt=3 dest=127\.0\.0\.1:\d+ status=200 dur=\d+ms; decision=success_after_retry$")]
    private static partial Regex TwiceHeader();

    [GeneratedRegex(@"^attempt=1 dest=127\.0\.0\.1:\d+ status=503 dur=\d+ms; decision=budget_exhausted stop=budget$")]
    private static partial Regex BudgetHeader();

    [GeneratedRegex(@"^attempt=1 dest=127\.0\.0\.1:\d+ status=200 dur=\d+ms; decision=success$")]
    private static partial Regex OkHeader();

    [GeneratedRegex(@"^sidecar_access_log_dropped_total(?:\{[^}]*\})? (\d+)", RegexOptions.Multiline)]
    private static partial Regex DroppedLine();
}
