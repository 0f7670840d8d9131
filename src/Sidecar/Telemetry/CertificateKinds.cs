namespace Sidecar.Telemetry;

/// <summary>The <c>kind</c> label of <c>sidecar_tls_certificate_expiry_timestamp_seconds</c>.</summary>
internal static class CertificateKinds
{
    /// <summary>The endpoint's own certificate: a cluster's client certificate, the listener's server certificate.</summary>
    public const string Certificate = "certificate";

    /// <summary>The earliest-expiring CA of <c>ca_file</c> or <c>client_ca_file</c>.</summary>
    public const string Ca = "ca";

    public static IReadOnlyList<string> All { get; } = [Certificate, Ca];
}
