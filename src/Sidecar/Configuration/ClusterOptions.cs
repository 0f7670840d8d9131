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

    /// <summary><c>tls:</c> how https destinations are verified and what Sidecar presents to them; <c>null</c> when not declared (system trust, no client certificate).</summary>
    public UpstreamTlsOptions? Tls { get; init; }
}

/// <summary><c>tls:</c> of a cluster. File paths are absolute (a relative path in the file is resolved against the config file's folder).</summary>
internal sealed record UpstreamTlsOptions
{
    /// <summary>PEM bundle of the CAs trusted for this cluster instead of the system's. Default <c>null</c>: system trust.</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate chain (PEM) presented for mTLS; set together with <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; init; }

    /// <summary>The client certificate's PEM key (PKCS#8 or PKCS#1; RSA or ECDSA).</summary>
    public string? KeyFile { get; init; }

    /// <summary>SNI and the name the server certificate must match. Default <c>null</c>: the destination's host.</summary>
    public string? ServerName { get; init; }

    /// <summary>The lowest TLS version offered. Default 1.2.</summary>
    public TlsMinVersion MinVersion { get; init; } = ConfigDefaults.TlsMinVersion;

    /// <summary>Accept any server certificate. Default false; Sidecar warns at start and <c>/config</c> shows it.</summary>
    public bool InsecureSkipVerify { get; init; }
}

/// <summary>The <c>min_version</c> of a cluster's <c>tls:</c>.</summary>
internal enum TlsMinVersion
{
    Tls12,
    Tls13,
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
