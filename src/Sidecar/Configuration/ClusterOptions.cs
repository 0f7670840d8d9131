namespace Sidecar.Configuration;

/// <summary>One entry of <c>clusters:</c>: a named set of upstream destinations.</summary>
internal sealed record ClusterOptions
{
    /// <summary>The cluster's key in <c>clusters:</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Absolute http(s) URLs, at least one.</summary>
    public required IReadOnlyList<string> Destinations { get; init; }

    /// <summary>YARP load-balancing policy name: <c>PowerOfTwoChoices</c> (default), <c>RoundRobin</c>, <c>Random</c>, <c>LeastRequests</c>, <c>FirstAlphabetical</c>.</summary>
    public string LoadBalancing { get; init; } = ConfigDefaults.LoadBalancing;

    /// <summary><c>protocol:</c> <c>auto</c> (default: HTTP/1.1, HTTP/2 when https negotiates it) or <c>http2</c> (h2c on http://).</summary>
    public UpstreamProtocol Protocol { get; init; } = UpstreamProtocol.Auto;

    /// <summary><c>health:</c> YARP passive and active health checks.</summary>
    public HealthOptions Health { get; init; } = new();

    /// <summary><c>circuit_breaker:</c> per-destination breaker; <c>null</c> when not declared (off).</summary>
    public CircuitBreakerOptions? CircuitBreaker { get; init; }
}

/// <summary><c>health:</c> of a cluster, mapped onto YARP's health checks.</summary>
internal sealed record HealthOptions
{
    /// <summary>Passive health: destinations that fail requests are marked unhealthy for <see cref="ReactivationPeriod"/>.</summary>
    public bool Passive { get; init; }

    /// <summary>How long a destination marked unhealthy by passive checks stays out. Default 10s.</summary>
    public TimeSpan ReactivationPeriod { get; init; } = ConfigDefaults.ReactivationPeriod;

    /// <summary>Active probing; <c>null</c> when not declared.</summary>
    public ActiveHealthOptions? Active { get; init; }
}

/// <summary><c>health.active:</c> periodic probes of each destination.</summary>
internal sealed record ActiveHealthOptions
{
    public TimeSpan Interval { get; init; } = ConfigDefaults.ActiveHealthInterval;

    public TimeSpan Timeout { get; init; } = ConfigDefaults.ActiveHealthTimeout;

    /// <summary>Path probed on each destination, e.g. <c>/healthz</c>.</summary>
    public string Path { get; init; } = ConfigDefaults.ActiveHealthPath;
}

/// <summary><c>circuit_breaker:</c> of a cluster, per destination.</summary>
internal sealed record CircuitBreakerOptions
{
    /// <summary>Failure ratio (0..1] over <see cref="Window"/> that opens the breaker. Default 0.5.</summary>
    public double FailureRatio { get; init; } = ConfigDefaults.BreakerFailureRatio;

    /// <summary>Requests needed in the window before the ratio is judged. Default 20.</summary>
    public int MinimumRequests { get; init; } = ConfigDefaults.BreakerMinimumRequests;

    /// <summary>Sliding window the ratio is computed over. Default 10s.</summary>
    public TimeSpan Window { get; init; } = ConfigDefaults.BreakerWindow;

    /// <summary>How long the breaker stays open before letting a probe through. Default 5s.</summary>
    public TimeSpan BreakDuration { get; init; } = ConfigDefaults.BreakerBreakDuration;
}
