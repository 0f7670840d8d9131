using Sidecar.Simulation;

namespace Sidecar.Demo;

/// <summary>What <c>sidecar demo</c> runs: how long, how many callers, and how flaky the built-in upstream is.</summary>
internal sealed record DemoOptions
{
    /// <summary>Longest run <c>--duration</c> accepts; the demo is meant to finish while a newcomer watches.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromSeconds(60);

    /// <summary>Shortest run <c>--duration</c> accepts; less gives too few samples for a p99.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(1);

    /// <summary>Most callers <c>--concurrency</c> accepts.</summary>
    public const int MaxConcurrency = 256;

    /// <summary>How long traffic is sent. Default 10s, between 1s and 60s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Concurrent callers; each alternates between the two routes. Default 8.</summary>
    public int Concurrency { get; init; } = SimulationOptions.DemoConcurrency;

    /// <summary>Share of upstream answers that are <c>503</c> with <c>Retry-After: 0</c>. Default 0.3.</summary>
    public double FailureRate { get; init; } = UpstreamModel.DemoFailureRate;

    /// <summary>Share of upstream answers that arrive after <see cref="SlowDelay"/>. Default 0.05.</summary>
    public double SlowRate { get; init; } = UpstreamModel.DemoSlowRate;

    /// <summary>How late a slow answer is; longer than the demo policy's per-try timeout, so retries abandon it. Default 1.5s.</summary>
    public TimeSpan SlowDelay { get; init; } = UpstreamModel.DemoSlowDelay;

    /// <summary>
    /// Each caller starts at most one request per interval (default 200ms, 5/s), so the default load (8 callers,
    /// 20 requests/s per route) stays inside the default retry budget and the comparison shows retries, not the budget.
    /// Raise <see cref="Concurrency"/> to watch the budget cap a retry storm.
    /// </summary>
    public TimeSpan CallerInterval { get; init; } = SimulationOptions.DemoInterval;

    /// <summary>Print the result as JSON (<c>--json</c>), in the shape <c>sidecar simulate --json</c> prints.</summary>
    public bool Json { get; init; }

    /// <summary>Seed of the upstream's random source, so runs are comparable.</summary>
    public int Seed { get; init; } = 42;
}
