using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>The real <c>sidecar</c> process logging JSON lines: a Debug line per retry, a summary per route, no YARP stack traces.</summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class JsonLogTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task Run_JsonLogsDebugConnectRefusedThenOk_OneRetryLineOneSummaryAndNoForwarderWarning()
    {
        using var upstream = ScriptedUpstream.Status(200, "ok");
        // FirstAlphabetical picks d1 (the closed port) first; the retry prefers the untried d2.
        var path = await WriteConfigAsync($$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app:
                destinations: ["http://127.0.0.1:{{FreePort.Get()}}", "{{upstream.Url}}"]
                load_balancing: FirstAlphabetical
            policies:
              p:
                backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            routes:
              - name: orders-read
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        using var sidecar = SidecarProcess.Start("run", "--config", path, "--json-logs", "--log-level", "debug");
        var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using (var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy })
        using (var response = await client.GetAsync("/orders/1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        }

        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var lines = ParseAll(sidecar.Output);
        var retry = Assert.Single(lines, l => l.GetProperty("EventId").GetInt32() == 200);
        Assert.Equal("Debug", retry.GetProperty("LogLevel").GetString());
        Assert.Equal("Sidecar.Retries.AttemptLoop", retry.GetProperty("Category").GetString());
        var state = retry.GetProperty("State");
        Assert.Equal("orders-read", Text(state.GetProperty("Route")));
        Assert.Equal("2", Text(state.GetProperty("Attempt")));
        Assert.Equal("connect_failure", Text(state.GetProperty("Reason")));
        Assert.Equal("10", Text(state.GetProperty("DelayMs")));
        Assert.StartsWith("Retrying route orders-read", retry.GetProperty("Message").GetString(), StringComparison.Ordinal);

        // The shutdown flushes the route's summary: the fields a log pipeline parses.
        var summary = Assert.Single(lines, l => l.GetProperty("EventId").GetInt32() == 210);
        Assert.Equal("Information", summary.GetProperty("LogLevel").GetString());
        Assert.Equal("Sidecar.Logging.RetryLog", summary.GetProperty("Category").GetString());
        var fields = summary.GetProperty("State");
        Assert.Equal("orders-read", fields.GetProperty("Route").GetString());
        Assert.Equal("app", fields.GetProperty("Cluster").GetString());
        Assert.Equal(1, fields.GetProperty("Retries").GetInt64());
        Assert.Equal("connect_failure=1", fields.GetProperty("RetryReasons").GetString());
        Assert.Equal(0, fields.GetProperty("Exhausted").GetInt64());
        Assert.Equal(0, fields.GetProperty("NoResponse").GetInt64());
        Assert.Equal(0, fields.GetProperty("BudgetRefused").GetInt64());
        Assert.Equal(0, fields.GetProperty("Skipped").GetInt64());
        Assert.Equal("none", fields.GetProperty("SkipReasons").GetString());
        Assert.True(fields.GetProperty("IntervalSeconds").GetDouble() >= 0);

        Assert.DoesNotContain(lines, l => l.GetProperty("Category").GetString()!.StartsWith("Yarp.ReverseProxy.Forwarder", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.TryGetProperty("Exception", out var exception) && exception.GetString() is { Length: > 0 });
    }

    [Fact]
    public async Task Run_SidecarLogFormatJson_EveryLineIsJson()
    {
        var path = await WriteConfigAsync("""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["http://127.0.0.1:1"] }
            routes:
              - name: r
                cluster: app
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        using var sidecar = SidecarProcess.Start(new Dictionary<string, string> { ["SIDECAR_LOG_FORMAT"] = "json" }, "run", "--config", path);
        await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));

        var lines = ParseAll(sidecar.Output);

        Assert.Contains(lines, l => l.GetProperty("EventId").GetInt32() == 1 && l.GetProperty("Category").GetString() == "Sidecar.Hosting.SidecarHost");
        Assert.Contains(lines, l => l.GetProperty("Message").GetString() == "Sidecar stopped");
    }

    /// <summary>Every stdout line parsed as one JSON object; a line that is not JSON fails the test.</summary>
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

        Assert.NotEmpty(lines);
        return lines;
    }

    private static string? Text(JsonElement value) => value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();

    private static async Task<string> WriteConfigAsync(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sidecar-logs-").FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
