namespace Sidecar.Configuration;

/// <summary>The keys of <c>listen</c>.</summary>
internal static class ListenKeys
{
    public const string Proxy = "proxy";
    public const string Admin = "admin";
    public const string Metrics = "metrics";
    public const string ProxyProtocol = "proxy_protocol";
    public const string Tls = "tls";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Proxy, Admin, Metrics, ProxyProtocol, Tls];

    /// <summary>The keys of <c>listen.tls</c>: the proxy listener's certificate and, optionally, the CAs its callers' certificates must chain to.</summary>
    internal static class TlsKeys
    {
        public const string CertFile = "cert_file";
        public const string KeyFile = "key_file";
        public const string ClientCaFile = "client_ca_file";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [CertFile, KeyFile, ClientCaFile];
    }
}
