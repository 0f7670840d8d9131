namespace Sidecar.Simulation;

/// <summary>
/// How the simulated upstream fails, as the <c>simulate</c> flags describe it. Each attempt that reaches it draws
/// once: a failure status (share <see cref="FailureRate"/>), a reset (<see cref="ResetRate"/>), a slow answer
/// (<see cref="SlowRate"/>), else a 200; every answer but a slow one takes a draw of <see cref="Latency"/>. The
/// defaults are <c>sidecar demo</c>'s built-in upstream, so <c>simulate</c> with no model flags runs the demo's model.
/// </summary>
internal sealed record UpstreamModel
{
    /// <summary>The demo's share of failures (its built-in upstream, <c>sidecar demo --failure-rate</c>'s default).</summary>
    public const double DemoFailureRate = 0.3;

    /// <summary>The demo's share of slow answers.</summary>
    public const double DemoSlowRate = 0.05;

    /// <summary>How late the demo's slow answers are: longer than the demo policy's per-try timeout, so retries abandon them.</summary>
    public static readonly TimeSpan DemoSlowDelay = TimeSpan.FromMilliseconds(1500);

    /// <summary>Share of answers that are <see cref="FailureStatus"/>. Default 0.3, as the demo.</summary>
    public double FailureRate { get; init; } = DemoFailureRate;

    /// <summary>The failure's status. Default 503.</summary>
    public int FailureStatus { get; init; } = StatusCodes.Status503ServiceUnavailable;

    /// <summary>The failure's <c>Retry-After</c>; null for none. Default 0 seconds, as the demo.</summary>
    public RetryAfterModel? RetryAfter { get; init; } = RetryAfterModel.Fixed(0);

    /// <summary>How long the upstream takes to answer. Default 1 ms (the demo's upstream answers on loopback at once).</summary>
    public LatencyModel Latency { get; init; } = LatencyModel.Fixed(TimeSpan.FromMilliseconds(1));

    /// <summary>Share of answers (after failures) that arrive after <see cref="SlowDelay"/>. Default 0.05, as the demo.</summary>
    public double SlowRate { get; init; } = DemoSlowRate;

    /// <summary>How late a slow answer is. Default 1.5s, as the demo.</summary>
    public TimeSpan SlowDelay { get; init; } = DemoSlowDelay;

    /// <summary>Share of attempts the upstream resets (after its latency) instead of answering. Default 0.</summary>
    public double ResetRate { get; init; }

    /// <summary>A window in which the upstream refuses every connection; null for none.</summary>
    public OutageWindow? Outage { get; init; }

    /// <summary>
    /// Requests the upstream serves at once; the rest wait in its queue, so its latency grows with the load. 0 for no
    /// limit. An attempt abandoned by its per-try timeout still holds its place: the upstream does not know the caller left.
    /// </summary>
    public int Capacity { get; init; }
}

/// <summary>The upstream is hard down (connections refused) from <see cref="Start"/> for <see cref="Length"/>.</summary>
internal sealed record OutageWindow(TimeSpan Start, TimeSpan Length)
{
    public bool Covers(TimeSpan at) => at >= Start && at < Start + Length;
}
