namespace Sidecar.Configuration;

/// <summary>
/// One immutable snapshot of a validated <c>sidecar.yaml</c>. A reload builds a new snapshot and swaps it whole.
/// </summary>
internal sealed record SidecarConfig
{
    /// <summary>The file this snapshot was read from (as given on the command line), or <c>&lt;embedded&gt;</c>.</summary>
    public required string SourcePath { get; init; }

    /// <summary>The addresses Sidecar listens on.</summary>
    public ListenOptions Listen { get; init; } = new();

    /// <summary>Upstream clusters by name, in file order.</summary>
    public required IReadOnlyDictionary<string, ClusterOptions> Clusters { get; init; }

    /// <summary>Retry policies by name, in file order.</summary>
    public required IReadOnlyDictionary<string, RetryPolicyOptions> Policies { get; init; }

    /// <summary>Routes in precedence order: the first route that matches wins.</summary>
    public required IReadOnlyList<RouteOptions> Routes { get; init; }

    /// <summary>Process-wide caps that protect the host.</summary>
    public LimitsOptions Limits { get; init; } = new();

    /// <summary>Which metrics are published besides Sidecar's own.</summary>
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>The access log.</summary>
    public LogsOptions Logs { get; init; } = new();
}
