namespace Sidecar.Configuration;

/// <summary><c>logs:</c> the per-request access log. Reloadable: a reload applies to requests that start after it.</summary>
internal sealed record LogsOptions
{
    /// <summary>
    /// Which requests get a JSON line on stdout: <c>off</c> (default), <c>failures</c> (requests that were retried or
    /// did not succeed) or <c>all</c>. Off, the request path allocates nothing for it.
    /// </summary>
    public AccessLogMode Access { get; init; } = ConfigDefaults.AccessLog;

    /// <summary>The share of requests (0..1) the access log considers, drawn per request; default 1 (every one).</summary>
    public double AccessSample { get; init; } = ConfigDefaults.AccessLogSample;
}

/// <summary>What <c>logs.access</c> writes a line for.</summary>
internal enum AccessLogMode
{
    /// <summary>No access log.</summary>
    Off,

    /// <summary>Only requests that were retried or whose outcome is not a success.</summary>
    Failures,

    /// <summary>Every request.</summary>
    All,
}
