namespace Sidecar.Simulation;

/// <summary>
/// One <c>simulate</c> run: the upstream's failure model, the callers, and how long in virtual time. Callers are a
/// closed loop as in <c>sidecar demo</c> (<see cref="Concurrency"/> callers, each starting at most one call per
/// <see cref="Interval"/> and waiting for its answer) unless <see cref="Rate"/> sets an open loop (Poisson arrivals
/// that do not wait for answers, as independent clients do).
/// </summary>
internal sealed record SimulationOptions
{
    /// <summary>Longest run accepted: a day of virtual time.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    /// <summary>The demo's callers.</summary>
    public const int DemoConcurrency = 8;

    /// <summary>
    /// The demo's caller interval: 8 callers at one request per 200ms each stay inside the default retry budget, so
    /// the demo shows retries, not the budget.
    /// </summary>
    public static readonly TimeSpan DemoInterval = TimeSpan.FromMilliseconds(200);

    public UpstreamModel Upstream { get; init; } = new();

    /// <summary>Closed-loop callers. Default 8, as the demo.</summary>
    public int Concurrency { get; init; } = DemoConcurrency;

    /// <summary>Each closed-loop caller starts at most one call per interval. Default 200ms, as the demo.</summary>
    public TimeSpan Interval { get; init; } = DemoInterval;

    /// <summary>Open-loop arrivals per second; null for the closed loop.</summary>
    public double? Rate { get; init; }

    /// <summary>Virtual time during which calls start (calls in flight then still finish). Default 60s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Seed of the upstream's draws, the arrivals and the policy's jitter: one seed, one result.</summary>
    public int Seed { get; init; } = 42;

    /// <summary>Rows of the timeline: the run is cut into this many intervals (at least 1 s each).</summary>
    public int TimelineRows { get; init; } = 12;

    public TimeSpan TimelineInterval
    {
        get
        {
            var interval = TimeSpan.FromTicks(Duration.Ticks / Math.Max(1, TimelineRows));
            return interval < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : interval;
        }
    }
}
