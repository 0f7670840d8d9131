namespace Sidecar.Configuration;

/// <summary>The keys of the root of <c>sidecar.yaml</c>.</summary>
internal static class SidecarConfigKeys
{
    public const string Listen = "listen";
    public const string Clusters = "clusters";
    public const string Policies = "policies";
    public const string Routes = "routes";
    public const string Limits = "limits";
    public const string Telemetry = "telemetry";
    public const string Logs = "logs";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Listen, Clusters, Policies, Routes, Limits, Telemetry, Logs];
}
