using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Configuration;
using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Tests.Telemetry;

namespace Sidecar.TestSupport;

/// <summary>
/// The retry core wired as the host wires it (config store, route table, decider, metrics in a container of their
/// own), on a <see cref="WatchedClock"/> (a FakeTimeProvider) and a fixed random source, so a test drives time and jitter by hand.
/// </summary>
internal sealed class RetryHarness : IDisposable
{
    public RetryHarness(string yaml)
    {
        var loaded = SidecarConfigLoader.Parse(yaml, "test.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        Config = loaded.Config!;
        Breakers = new CircuitBreakerRegistry(Time);
        Log = new RetryLog(NullLogger<RetryLog>.Instance, Breakers, Time);
        Store = new SidecarConfigStore(Config, new ClusterRetryStateRegistry(Time), Breakers, Log, Metrics.Metrics);
        WaitLimiter = new BackoffWaitLimiter(Store);
        Decider = new RetryDecider(Time, Random, Metrics.Metrics, WaitLimiter, Drain);
    }

    /// <summary>The fake clock, which also tells when a timer is armed on it.</summary>
    public WatchedClock Time { get; } = new();

    public FixedRandom Random { get; } = new();

    public MetricsTestContext Metrics { get; } = new();

    public DrainSignal Drain { get; } = new();

    public SidecarConfig Config { get; }

    public CircuitBreakerRegistry Breakers { get; }

    public RetryLog Log { get; }

    public SidecarConfigStore Store { get; }

    public BackoffWaitLimiter WaitLimiter { get; }

    public RetryDecider Decider { get; }

    public RoutePlan Route(string name) => Store.RouteTable.Find(name) ?? throw new InvalidOperationException($"No route '{name}'.");

    /// <summary>A request on <paramref name="route"/> (which must have a policy), its first attempt begun.</summary>
    public RetryState NewRequest(string route, bool isIdempotent = true, TimeSpan? deadline = null, int? maxAttempts = null)
    {
        var plan = Route(route);
        var retry = plan.Retry ?? throw new InvalidOperationException($"Route '{route}' has no policy.");
        var start = Time.GetTimestamp();
        var deadlineTimestamp = deadline is { } d ? start + (long)(d.TotalSeconds * Time.TimestampFrequency) : long.MaxValue;
        var state = new RetryState(plan, retry, maxAttempts ?? retry.Options.MaxAttempts, start, deadlineTimestamp, isIdempotent);
        state.BeginAttempt(1);
        return state;
    }

    /// <summary>The route's retry log counters since the last call (skip reasons as <c>reason=count</c>).</summary>
    public RouteLogSummary? Collect(string route) => Route(route).Log.Collect(TimeSpan.FromMinutes(1));

    public void Dispose() => Metrics.Dispose();

    internal sealed class FixedRandom : IRandomSource
    {
        public double Value { get; set; } = 0.5;

        public double NextDouble() => Value;
    }
}
