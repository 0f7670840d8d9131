using System.Globalization;
using System.Text.Json;
using Sidecar.Demo;
using Sidecar.FunctionalTests.TestSupport;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Simulation;

/// <summary>
/// <c>sidecar simulate</c> against the real thing: the real <c>sidecar demo</c> (Kestrel upstream, the real proxy,
/// HTTP on loopback, a minute of real time) and <c>simulate</c> with the demo's config and model print the same JSON
/// shape, and the numbers agree. The demo's 32 callers alternate between its two routes; the simulation runs each
/// route alone, so it gets 16 callers at the demo's interval: the same load per route, the same budget pressure.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class SimulateFaithfulnessTests(ITestOutputHelper output)
{
    private const string DemoCallers = "32";
    private const string SimulatedCallers = "16";

    /// <summary>Bound on how long a child process may run before the test gives up on it (a hang, not a measurement).</summary>
    private static readonly TimeSpan ProcessBound = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task Simulate_DemoModel_AgreesWithTheRealDemo()
    {
        var demo = await DemoAsync("--failure-rate", "0.3");
        // The model's answer time is what one proxied attempt took for real: the median of the route without retries
        // (loopback, Kestrel and the proxy on a shared machine), which no model can know in advance.
        var latency = Ms(demo, "without-retries", "latency_p50_ms");

        var simulated = await SimulateAsync("--failure-rate", "0.3", "--latency", Invariant($"{latency:0.###}ms"));
        output.WriteLine($"real demo:\n{demo}\nsimulated:\n{simulated}");

        foreach (var route in new[] { DemoPolicy.WithRetriesRoute, DemoPolicy.WithoutRetriesRoute })
        {
            var context = Invariant($"route {route}\nreal:      {demo.GetProperty(route)}\nsimulated: {simulated.GetProperty(route)}");
            Assert.True(Math.Abs(Value(demo, route, "caller_success") - Value(simulated, route, "caller_success")) <= 0.02, context);
            Assert.True(Math.Abs(Value(demo, route, "upstream_requests_per_call") - Value(simulated, route, "upstream_requests_per_call")) <= 0.05, context);
            Assert.True(WithinQuarter(Ms(demo, route, "latency_p50_ms"), Ms(simulated, route, "latency_p50_ms")), context);
            Assert.True(WithinQuarter(Ms(demo, route, "latency_p99_ms"), Ms(simulated, route, "latency_p99_ms")), context);
        }
    }

    [Fact]
    public async Task Simulate_RetryStorm_AmplificationHeldAtTheBudgetBoundAsByTheRealProxy()
    {
        // The demo's upstream fails at most 90% of requests; the simulation goes to 100%. Either way the budget
        // (ratio 0.2 of upstream requests) holds retries to 0.25 per call.
        var demo = await DemoAsync("--failure-rate", "0.9");
        var simulated = await SimulateAsync("--failure-rate", "1");
        output.WriteLine($"real demo (failure rate 0.9):\n{demo}\nsimulated (failure rate 1):\n{simulated}");

        var real = Value(demo, DemoPolicy.WithRetriesRoute, "upstream_requests_per_call");
        var model = Value(simulated, DemoPolicy.WithRetriesRoute, "upstream_requests_per_call");
        Assert.InRange(real, 1.18, 1.27);
        Assert.InRange(model, 1.2, 1.26);
        Assert.True(Math.Abs(real - model) <= 0.05, Invariant($"real {real}, simulated {model}"));
        Assert.True(Value(simulated, DemoPolicy.WithRetriesRoute, "budget_refused") > 0);
    }

    private static async Task<JsonElement> DemoAsync(params string[] model)
    {
        using var process = SidecarProcess.Start(["demo", "--json", "--duration", "60s", "--concurrency", DemoCallers, .. model]);
        return await JsonOfAsync(process);
    }

    private static async Task<JsonElement> SimulateAsync(params string[] model)
    {
        var config = Path.Combine(Path.GetTempPath(), $"sidecar-simulate-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, DemoPolicy.Yaml(new Uri("http://127.0.0.1:9")));
        try
        {
            using var process = SidecarProcess.Start(["simulate", "--config", config, "--route", DemoPolicy.WithRetriesRoute, "--route", DemoPolicy.WithoutRetriesRoute, "--json", "--duration", "10m", "--concurrency", SimulatedCallers, .. model]);
            return await JsonOfAsync(process);
        }
        finally
        {
            File.Delete(config);
        }
    }

    private static async Task<JsonElement> JsonOfAsync(SidecarProcess process)
    {
        var code = await process.WaitForExitAsync(ProcessBound);
        var stdout = string.Join('\n', process.Output);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{string.Join('\n', process.Errors)}");
        using var json = JsonDocument.Parse(stdout);
        return json.RootElement.Clone();
    }

    private static double Value(JsonElement result, string route, string name) => result.GetProperty(route).GetProperty(name).GetDouble();

    private static double Ms(JsonElement result, string route, string name) => Value(result, route, name);

    private static bool WithinQuarter(double real, double simulated) => Math.Abs(simulated - real) <= 0.25 * real;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
