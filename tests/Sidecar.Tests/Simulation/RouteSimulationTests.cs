using System.Globalization;
using Sidecar.Configuration;
using Sidecar.Simulation;

namespace Sidecar.Tests.Simulation;

/// <summary>
/// <see cref="RouteSimulation"/> and <see cref="Simulator"/>: the proxy's attempt loop and decider driven on the
/// virtual clock by closed- and open-loop callers against the simulated upstream.
/// </summary>
public sealed class RouteSimulationTests
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
          guarded:
            destinations: ["http://127.0.0.1:2"]
            circuit_breaker: { failure_ratio: 0.5, minimum_requests: 20, window: 10s, break_duration: 5s }
        policies:
          budgeted:
            max_attempts: 3
            backoff: { algorithm: exponential, base: 10ms, max: 100ms, jitter: full }
            retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
            per_try_timeout: 200ms
            budget: { ratio: 0.2, min_per_second: 1 }
          unbudgeted:
            max_attempts: 3
            backoff: { algorithm: exponential, base: 10ms, max: 100ms, jitter: full }
            retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
            per_try_timeout: 200ms
            max_concurrent_retries: 100000
            budget: { enabled: false }
          polite:
            max_attempts: 2
            backoff: { algorithm: constant, base: 10ms, jitter: none }
            retry_on: { status: [429] }
            retry_after: { honor: true, max: 5s }
            budget: { enabled: false }
          hedged:
            max_attempts: 2
            retry_on: { status: [503] }
            hedge: { delay: 50ms }
        routes:
          - { name: r, match: { path: "/{**rest}" }, cluster: app, policy: budgeted }
          - { name: plain, match: { path: "/plain/{**rest}" }, cluster: app }
          - { name: h, match: { path: "/h/{**rest}" }, cluster: app, policy: hedged }
          - { name: g, match: { path: "/g/{**rest}" }, cluster: guarded, policy: budgeted }
        """;

    private static readonly SidecarConfig Config = Load();

    private static readonly UpstreamModel Healthy = new()
    {
        FailureRate = 0,
        SlowRate = 0,
        RetryAfter = null,
        Latency = LatencyModel.Fixed(TimeSpan.FromMilliseconds(10)),
    };

    [Fact]
    public void Run_SameSeed_SameResult_OtherSeed_OtherResult()
    {
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(20), Rate = 300, Upstream = new UpstreamModel { Latency = Latency("p50=5ms,p99=80ms") } };

        var first = Json(RouteSimulation.Run(Config, "r", options));
        var again = Json(RouteSimulation.Run(Config, "r", options));
        var other = Json(RouteSimulation.Run(Config, "r", options with { Seed = 7 }));

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Run_ClosedLoop_EachCallerStartsOneCallPerInterval()
    {
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(10), Concurrency = 4, Interval = TimeSpan.FromMilliseconds(100), Upstream = Healthy };

        var run = RouteSimulation.Run(Config, "r", options);

        Assert.Equal(400, run.Stats.Calls);
        Assert.Equal(400, run.Stats.Successes);
        Assert.Equal(TimeSpan.FromMilliseconds(10), run.Stats.Latency.Percentile(99));
        Assert.Equal(1.0, (double)run.Stats.UpstreamRequests / run.Stats.Calls);
    }

    [Fact]
    public void Run_SlowUpstream_ClosedLoopSlowsDownWhileOpenLoopKeepsItsRate()
    {
        var slow = Healthy with { Latency = LatencyModel.Fixed(TimeSpan.FromSeconds(1)) };
        var closed = new SimulationOptions { Duration = TimeSpan.FromSeconds(10), Concurrency = 4, Interval = TimeSpan.FromMilliseconds(100), Upstream = slow };

        var closedRun = RouteSimulation.Run(Config, "plain", closed);
        var openRun = RouteSimulation.Run(Config, "plain", closed with { Rate = 40 });

        // Closed: each caller waits a second per call. Open: arrivals at 40/s whatever the answers (Poisson).
        Assert.Equal(40, closedRun.Stats.Calls);
        Assert.InRange(openRun.Stats.Calls, 340, 460);
    }

    [Fact]
    public void Run_CapacityLimitedUpstream_LatencyGrowsWithTheQueue()
    {
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(10), Concurrency = 20, Interval = TimeSpan.FromMilliseconds(10), Upstream = Healthy with { Capacity = 1 } };

        var run = RouteSimulation.Run(Config, "plain", options);

        // One served at a time, 10ms each: 20 callers see 200ms each, and the upstream answers 100 calls a second (the
        // 20 calls in flight at the end finish too).
        Assert.Equal(TimeSpan.FromMilliseconds(200), run.Stats.Latency.Percentile(50));
        Assert.InRange(run.Stats.Calls, 1000, 1020);
        Assert.Contains(run.Stats.Timeline, bucket => bucket.PeakUpstreamInFlight == 20);
    }

    [Fact]
    public void Run_OutageWindow_CallsFailOnlyInsideIt()
    {
        var options = new SimulationOptions
        {
            Duration = TimeSpan.FromSeconds(12),
            TimelineRows = 12,
            Concurrency = 4,
            Upstream = Healthy with { Outage = new OutageWindow(TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(4)) },
        };

        var run = RouteSimulation.Run(Config, "plain", options);

        var success = run.Stats.Timeline.Select(b => b.Success).ToList();
        Assert.All(success.Take(4).Concat(success.Skip(8)), s => Assert.Equal(1.0, s));
        Assert.All(success.Skip(4).Take(4), s => Assert.Equal(0.0, s));
    }

    [Fact]
    public void Run_UpstreamAlwaysFails_TheBudgetHoldsAmplificationAtItsRatio()
    {
        var failing = Healthy with { FailureRate = 1 };
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(60), Rate = 1000, Upstream = failing };

        var budgeted = RouteSimulation.Run(Config, "r", options);
        var unbudgeted = RouteSimulation.Run(With("r", "unbudgeted"), "r", options);

        // ratio 0.2: retries are at most 20% of what the upstream gets, 1.25 requests per call, plus the 1/s floor
        // (0.001 per call at 1,000/s).
        var amplification = (double)budgeted.Stats.UpstreamRequests / budgeted.Stats.Calls;
        Assert.InRange(amplification, 1.2, 1.26);
        Assert.True(budgeted.Stats.BudgetRefused > budgeted.Stats.Calls / 2);
        Assert.Equal(3.0, (double)unbudgeted.Stats.UpstreamRequests / unbudgeted.Stats.Calls);
        Assert.Equal(0, unbudgeted.Stats.Successes);
    }

    [Fact]
    public void Run_CapacityLimitedUpstream_RetriesWithoutBudgetStormAndTheBudgetPreventsIt()
    {
        // 50 at once, 20ms each: 2,500 requests/s at most. 30% 503s at 2,000 calls/s need 2,780/s with 3 attempts.
        var model = Healthy with { FailureRate = 0.3, Latency = LatencyModel.Fixed(TimeSpan.FromMilliseconds(20)), Capacity = 50 };
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(60), Rate = 2000, Upstream = model };

        var budgeted = RouteSimulation.Run(Config, "r", options);
        var storm = RouteSimulation.Run(With("r", "unbudgeted"), "r", options);

        Assert.True(Success(storm) < 0.1, $"without a budget: {Success(storm)}");
        Assert.True((double)storm.Stats.UpstreamRequests / storm.Stats.Calls > 2.5);
        Assert.True(Success(budgeted) > 0.75, $"with the budget: {Success(budgeted)}");
        Assert.InRange((double)budgeted.Stats.UpstreamRequests / budgeted.Stats.Calls, 1.2, 1.26);
        Assert.True(storm.Stats.Latency.Percentile(50) > TimeSpan.FromMilliseconds(500));
        Assert.True(budgeted.Stats.Latency.Percentile(50) < TimeSpan.FromMilliseconds(150));
    }

    [Fact]
    public void Run_OutageBehindACircuitBreaker_TheOpenCircuitSparesTheUpstreamAndClosesAfterIt()
    {
        var options = new SimulationOptions
        {
            Duration = TimeSpan.FromSeconds(40),
            TimelineRows = 8,
            Rate = 100,
            Upstream = Healthy with { Outage = new OutageWindow(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10)) },
        };

        var guarded = RouteSimulation.Run(Config, "g", options);
        var unguarded = RouteSimulation.Run(Config, "r", options);

        // Open, the circuit answers 503 without an attempt: the outage's calls cost the upstream far less.
        var during = guarded.Stats.Timeline.Skip(2).Take(2).Sum(b => b.Attempts);
        var duringUnguarded = unguarded.Stats.Timeline.Skip(2).Take(2).Sum(b => b.Attempts);
        Assert.True(during < duringUnguarded / 2, $"{during} attempts with the breaker, {duringUnguarded} without");
        // A probe after the break closes it again once the upstream is back.
        Assert.Equal(1.0, guarded.Stats.Timeline[^1].Success);
    }

    [Fact]
    public void Run_RetryAfter_TheDecidersWaitReplacesTheBackoff()
    {
        var model = Healthy with { FailureRate = 1, FailureStatus = 429, RetryAfter = RetryAfterModel.Fixed(2) };
        var options = new SimulationOptions { Duration = TimeSpan.FromSeconds(10), Concurrency = 1, Upstream = model };

        var run = RouteSimulation.Run(With("r", "polite"), "r", options);

        // Two attempts of 10ms each, 2s apart as the upstream asked: the policy's 10ms backoff is not used.
        Assert.Equal(TimeSpan.FromMilliseconds(2020), run.Stats.Latency.Percentile(50));
        Assert.Equal([0, run.Stats.Calls], run.Stats.Attempts);
    }

    [Fact]
    public void Run_HedgedPolicy_RacesASlowAnswerAndTheHedgeWins()
    {
        // One answer in twenty takes a second; the policy hedges after 50ms, and the hedge (10ms) answers first unless
        // it is slow too (one call in 400, under the 99th percentile).
        var options = new SimulationOptions
        {
            Upstream = Healthy with { SlowRate = 0.05, SlowDelay = TimeSpan.FromSeconds(1) },
            Concurrency = 8,
            Interval = TimeSpan.FromMilliseconds(100),
            Duration = TimeSpan.FromSeconds(30),
        };

        var hedged = RouteSimulation.Run(Config, "h", options);
        var plain = RouteSimulation.Run(Config, "plain", options);

        Assert.Equal(hedged.Stats.Calls, hedged.Stats.Successes);
        Assert.Equal(TimeSpan.FromSeconds(1), plain.Stats.Latency.Percentile(99));
        Assert.Equal(TimeSpan.FromMilliseconds(60), hedged.Stats.Latency.Percentile(99));
        // Calls with a slow first answer made two attempts; the others one.
        Assert.InRange(hedged.Stats.Attempts[1], hedged.Stats.Calls / 40, hedged.Stats.Calls / 10);
        Assert.Equal(hedged.Stats.Calls, hedged.Stats.Attempts[0] + hedged.Stats.Attempts[1]);
        Assert.Equal(hedged.Stats.Calls + hedged.Stats.Attempts[1], hedged.Stats.UpstreamRequests);
    }

    [Fact]
    public void Run_HedgedPolicy_TheBudgetBoundsHedgesAsItBoundsRetries()
    {
        // Every answer is slow: without a bound every call would hedge; the budget (20%) lets about one in five.
        var options = new SimulationOptions
        {
            Upstream = Healthy with { SlowRate = 1, SlowDelay = TimeSpan.FromMilliseconds(200) },
            Rate = 200,
            Duration = TimeSpan.FromSeconds(60),
        };

        var run = RouteSimulation.Run(Config, "h", options);

        var perCall = (double)run.Stats.UpstreamRequests / run.Stats.Calls;
        Assert.InRange(perCall, 1.15, 1.26);
        Assert.True(run.Stats.BudgetRefused > run.Stats.Calls / 2, $"budget refused {run.Stats.BudgetRefused} of {run.Stats.Calls}");
    }

    [Fact]
    public void Run_Compare_RunsThePolicyNoRetriesAndTheNamedPolicies()
    {
        using var output = new StringWriter(CultureInfo.InvariantCulture);

        var code = Simulator.Run(Config, ["r"], ["unbudgeted"], new SimulationOptions { Duration = TimeSpan.FromSeconds(2) }, json: true, output, TextWriter.Null);

        Assert.Equal(0, code);
        var json = System.Text.Json.JsonDocument.Parse(output.ToString()).RootElement;
        Assert.Equal(["r", "r:none", "r:unbudgeted"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(1.0, json.GetProperty("r:none").GetProperty("upstream_requests_per_call").GetDouble());
        Assert.Equal(["caller_success", "upstream_requests_per_call", "latency_p50_ms", "latency_p99_ms", "attempts", "budget_refused"], json.GetProperty("r").EnumerateObject().Select(p => p.Name));
    }

    private static double Success(RouteRun run) => (double)run.Stats.Successes / run.Stats.Calls;

    private static string Json(RouteRun run) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, RouteSummary> { [run.Route] = RouteSummary.From(run.Stats) }, RouteSummaryJsonContext.Default.DictionaryStringRouteSummary);

    private static LatencyModel Latency(string text) => LatencyModel.TryParse(text, out var model, out var error) ? model! : throw new ArgumentException(error);

    private static SidecarConfig With(string route, string policy) =>
        Config with { Routes = Config.Routes.Select(r => r.Name == route ? r with { Policy = policy } : r).ToList() };

    private static SidecarConfig Load()
    {
        var loaded = SidecarConfigLoader.Parse(Yaml, "simulate.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Config!;
    }
}
