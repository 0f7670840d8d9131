namespace Sidecar.Configuration;

/// <summary><c>listen:</c> the proxy, admin and metrics addresses (absolute <c>http://host:port</c> URLs).</summary>
internal sealed record ListenOptions
{
    /// <summary>Where the application's calls come in. Default <c>http://127.0.0.1:8080</c>.</summary>
    public string Proxy { get; init; } = ConfigDefaults.ProxyAddress;

    /// <summary>Where <c>/metrics</c>, <c>/healthz</c>, <c>/readyz</c> and <c>/config</c> are served. Default <c>http://127.0.0.1:9901</c>.</summary>
    public string Admin { get; init; } = ConfigDefaults.AdminAddress;

    /// <summary>
    /// An optional third listener serving only <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>: what Prometheus
    /// and the kubelet need, reachable on the pod IP while <c>admin</c> (and its <c>/config</c>) stays on loopback.
    /// Default <c>null</c>: none, metrics are served on <c>admin</c> only.
    /// </summary>
    public string? Metrics { get; init; }

    /// <summary>
    /// What callers speak on the proxy port: <c>http1</c> (default) or <c>h2c</c>, HTTP/2 with prior knowledge as
    /// cleartext gRPC clients use. Kestrel cannot offer both on one plain-text port (there is no TLS to negotiate).
    /// </summary>
    public ProxyProtocol ProxyProtocol { get; init; } = ProxyProtocol.Http1;

    /// <summary>
    /// <c>tls:</c> the proxy listener's certificate, required by (and only allowed with) an <c>https://</c> proxy
    /// address: a config that says https never serves cleartext. <c>null</c> for an <c>http://</c> proxy address.
    /// </summary>
    public ListenTlsOptions? Tls { get; init; }
}

/// <summary><c>listen.tls:</c> paths are absolute (a relative path in the file is resolved against the config file's folder).</summary>
internal sealed record ListenTlsOptions
{
    /// <summary>The listener's certificate chain (PEM).</summary>
    public required string CertFile { get; init; }

    /// <summary>Its PEM key (PKCS#8 or PKCS#1; RSA or ECDSA).</summary>
    public required string KeyFile { get; init; }

    /// <summary>PEM bundle of the CAs a caller's certificate must chain to; set, callers without one are refused. Default <c>null</c>: no client certificates asked for.</summary>
    public string? ClientCaFile { get; init; }
}
