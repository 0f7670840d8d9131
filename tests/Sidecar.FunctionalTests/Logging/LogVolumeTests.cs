using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Logging;

/// <summary>
/// The real <c>sidecar</c> process in a failure storm: at the default level its log does not grow with the number of
/// retries (a summary per route, state changes), at Debug every retry is a line again; the level comes from
/// <c>--log-level</c>, <c>SIDECAR_LOG_LEVEL</c> or <c>Logging__LogLevel__*</c>, and a bad one stops the start.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
[Collection(LogVolumeCollection.Name)]
public sealed class LogVolumeTests
{
    private const int SigTerm = 15;
    private const int RetryEvent = 200;
    private const int SummaryEvent = 210;
    private const int BudgetExhaustedEvent = 205;
    private const int BudgetRecoveredEvent = 206;

    // Start-up and shutdown: "listening", "draining", "stopped".
    private const int LifecycleLines = 3;

    // Per summary (every 10s and at shutdown), for one route on one cluster: its summary line and at most one start
    // and one end of the budget's exhaustion.
    private const int LinesPerSummary = 3;

    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Run_FailureStormAtDefaultLevel_LinesBoundedAndSummariesCountEveryRetry()
    {
        await using var upstream = await FlakyUpstreamAsync();
        var path = await WriteConfigAsync(upstream.Url);
        var clock = Stopwatch.StartNew();
        using var sidecar = SidecarProcess.Start("run", "--config", path, "--json-logs");
        var (proxy, admin) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));

        await StormAsync(proxy, requests: 1000);
        var metrics = await ScrapeAsync(admin);
        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        var elapsed = clock.Elapsed;

        var retries = Sum(metrics, "sidecar_retries_total");
        var budgetRefused = PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=storm", "reason=budget") ?? 0;
        var exhausted = PrometheusText.Value(metrics, "sidecar_requests_total", "route=storm", "outcome=exhausted") ?? 0;
        var lines = ParseAll(sidecar.Output.Concat(sidecar.Errors));
        var summaries = lines.Where(l => l.GetProperty("EventId").GetInt32() == SummaryEvent).Select(l => l.GetProperty("State")).ToList();
        var bound = LifecycleLines + (LinesPerSummary * ((int)(elapsed / SummaryInterval) + 1));

        // The storm happened (the old log would have had a line per retry) and the log stayed within its bound.
        Assert.True(retries >= 5 * bound, $"only {retries} retries: not a storm against a bound of {bound} lines");
        Assert.True(lines.Count <= bound, $"{lines.Count} lines for {retries} retries in {elapsed.TotalSeconds:0.#}s, bound {bound}:\n" + string.Join('\n', lines.Select(l => l.GetProperty("Message").GetString())));
        Assert.DoesNotContain(lines, l => l.GetProperty("EventId").GetInt32() == RetryEvent);

        // The summaries account for every retry, refusal and exhausted request the metrics counted.
        Assert.NotEmpty(summaries);
        Assert.All(summaries, s => Assert.Equal("storm", s.GetProperty("Route").GetString()));
        Assert.All(summaries, s => Assert.Equal("app", s.GetProperty("Cluster").GetString()));
        Assert.Equal(retries, summaries.Sum(s => s.GetProperty("Retries").GetInt64()));
        Assert.Equal(budgetRefused, summaries.Sum(s => s.GetProperty("BudgetRefused").GetInt64()));
        Assert.Equal(exhausted, summaries.Sum(s => s.GetProperty("Exhausted").GetInt64()));
        Assert.All(summaries, s => Assert.Matches("^503=[0-9]+$", s.GetProperty("RetryReasons").GetString()));
        if (budgetRefused > 0)
        {
            Assert.Single(lines, l => l.GetProperty("EventId").GetInt32() == BudgetExhaustedEvent && l.GetProperty("State").GetProperty("Cluster").GetString() == "app");
            Assert.True(lines.Count(l => l.GetProperty("EventId").GetInt32() == BudgetRecoveredEvent) <= 1);
        }
    }

    [Fact]
    public async Task Run_FailureStormAtDebug_OneLinePerRetry()
    {
        await using var upstream = await FlakyUpstreamAsync();
        var path = await WriteConfigAsync(upstream.Url);
        using var sidecar = SidecarProcess.Start("run", "--config", path, "--json-logs", "--log-level", "debug");
        var (proxy, admin) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));

        await StormAsync(proxy, requests: 200);
        var metrics = await ScrapeAsync(admin);
        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30)));

        var retries = Sum(metrics, "sidecar_retries_total");
        var retryLines = ParseAll(sidecar.Output).Where(l => l.GetProperty("EventId").GetInt32() == RetryEvent).ToList();
        Assert.True(retries > 0, "the upstream's 503s were not retried");
        Assert.Equal(retries, retryLines.Count);
        Assert.All(retryLines, l => Assert.Equal("Debug", l.GetProperty("LogLevel").GetString()));
        Assert.All(retryLines, l => Assert.Equal("503", l.GetProperty("State").GetProperty("Reason").GetString()));
    }

    [Theory]
    [InlineData("SIDECAR_LOG_LEVEL", "debug")]
    [InlineData("Logging__LogLevel__Default", "Debug")]
    public async Task Run_LevelFromEnvironment_DebugShowsTheRetry(string variable, string value)
    {
        var lines = await OneRetryAsync(new Dictionary<string, string> { [variable] = value });

        Assert.Single(lines, l => l.GetProperty("EventId").GetInt32() == RetryEvent);
    }

    [Fact]
    public async Task Run_FlagOverEnvironmentOverConfiguration_FlagWins()
    {
        var environment = new Dictionary<string, string> { ["SIDECAR_LOG_LEVEL"] = "debug", ["Logging__LogLevel__Default"] = "Debug" };

        var lines = await OneRetryAsync(environment, "--log-level", "information");

        Assert.DoesNotContain(lines, l => l.GetProperty("EventId").GetInt32() == RetryEvent);
        Assert.Contains(lines, l => l.GetProperty("EventId").GetInt32() == SummaryEvent);
    }

    [Fact]
    public async Task Run_EnvironmentOverConfiguration_SidecarLogLevelWins()
    {
        var environment = new Dictionary<string, string> { ["SIDECAR_LOG_LEVEL"] = "information", ["Logging__LogLevel__Sidecar"] = "Debug" };

        var lines = await OneRetryAsync(environment);

        Assert.DoesNotContain(lines, l => l.GetProperty("EventId").GetInt32() == RetryEvent);
        Assert.Contains(lines, l => l.GetProperty("EventId").GetInt32() == SummaryEvent);
    }

    [Theory]
    [InlineData("--log-level", "verbose", "", "", "--log-level: 'verbose' is not a log level: use trace, debug, information, warning, error, critical or none")]
    [InlineData("", "", "SIDECAR_LOG_LEVEL", "loud", "SIDECAR_LOG_LEVEL: 'loud' is not a log level")]
    [InlineData("", "", "Logging__LogLevel__Default", "verbose", "Logging:LogLevel:Default (Logging__LogLevel__Default): 'verbose' is not a log level")]
    public async Task Run_BadLevel_ExitsOneWithTheErrorBeforeListening(string flag, string flagValue, string variable, string value, string expected)
    {
        var path = await WriteConfigAsync("http://127.0.0.1:1");
        var args = flag.Length > 0 ? new[] { "run", "--config", path, flag, flagValue } : ["run", "--config", path];
        var environment = variable.Length > 0 ? new Dictionary<string, string> { [variable] = value } : null;
        using var sidecar = SidecarProcess.Start(environment, args);

        var code = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, code);
        Assert.Contains(expected, string.Join('\n', sidecar.Errors), StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.Output, l => l.Contains("listening", StringComparison.Ordinal));
    }

    /// <summary>One request whose first attempt gets a 503 and whose retry succeeds; returns every JSON line logged.</summary>
    private static async Task<List<JsonElement>> OneRetryAsync(Dictionary<string, string> environment, params string[] extraArgs)
    {
        await using var upstream = await TestUpstream.StartAsync(async (context, number) =>
        {
            context.Response.StatusCode = number == 1 ? 503 : 200;
            await context.Response.WriteAsync("x");
        });
        var path = await WriteConfigAsync(upstream.Url);
        using var sidecar = SidecarProcess.Start(environment, ["run", "--config", path, "--json-logs", .. extraArgs]);
        var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using (var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy })
        using (var response = await client.GetAsync("/one"))
        {
            Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        }

        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        return ParseAll(sidecar.Output);
    }

    /// <summary>An upstream answering every third request with 503.</summary>
    private static Task<TestUpstream> FlakyUpstreamAsync() =>
        TestUpstream.StartAsync(async (context, number) =>
        {
            context.Response.StatusCode = number % 3 == 0 ? 503 : 200;
            await context.Response.WriteAsync("x");
        });

    /// <summary>Sends <paramref name="requests"/> GETs through Sidecar from 16 concurrent callers; every one must get an answer.</summary>
    private static async Task StormAsync(Uri proxy, int requests)
    {
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, MaxConnectionsPerServer = 16 }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(30) };
        var next = 0;
        var callers = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= requests)
            {
                using var response = await client.GetAsync("/storm");
                Assert.True((int)response.StatusCode is 200 or 503, $"unexpected {(int)response.StatusCode}");
            }
        });
        await Task.WhenAll(callers);
    }

    private static async Task<string> ScrapeAsync(Uri admin)
    {
        using var client = new HttpClient { BaseAddress = admin };
        return await client.GetStringAsync("/metrics");
    }

    /// <summary>The sum of every sample of a counter (all label sets).</summary>
    private static long Sum(string metrics, string name) =>
        (long)metrics.Split('\n')
            .Where(l => l.StartsWith(name + "{", StringComparison.Ordinal))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

    /// <summary>Every line parsed as one JSON object; a line that is not JSON fails the test.</summary>
    private static List<JsonElement> ParseAll(IEnumerable<string> output)
    {
        var lines = new List<JsonElement>();
        foreach (var line in output.Where(l => l.Length > 0))
        {
            try
            {
                using var document = JsonDocument.Parse(line);
                lines.Add(document.RootElement.Clone());
            }
            catch (JsonException ex)
            {
                Assert.Fail($"not a JSON line ({ex.Message}): {line}");
            }
        }

        return lines;
    }

    private static async Task<string> WriteConfigAsync(string upstream)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sidecar-logvolume-").FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["{{upstream}}"] }
            policies:
              p:
                max_attempts: 3
                retry_on: { status: [503] }
                backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            routes:
              - name: storm
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        return path;
    }
}
