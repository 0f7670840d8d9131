namespace Sidecar.Configuration;

/// <summary><c>listen:</c> the proxy and admin addresses (absolute <c>http://host:port</c> URLs).</summary>
internal sealed record ListenOptions
{
    /// <summary>Where the application's calls come in. Default <c>http://127.0.0.1:8080</c>.</summary>
    public string Proxy { get; init; } = ConfigDefaults.ProxyAddress;

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c> and <c>/config</c> are served. Default <c>http://127.0.0.1:9901</c>.</summary>
    public string Admin { get; init; } = ConfigDefaults.AdminAddress;
}
