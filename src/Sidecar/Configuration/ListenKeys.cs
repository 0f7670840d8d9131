namespace Sidecar.Configuration;

/// <summary>The keys of <c>listen</c>.</summary>
internal static class ListenKeys
{
    public const string Proxy = "proxy";
    public const string Admin = "admin";
    public const string Metrics = "metrics";
    public const string ProxyProtocol = "proxy_protocol";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Proxy, Admin, Metrics, ProxyProtocol];
}
