namespace Sidecar.Configuration;

/// <summary>The keys of <c>telemetry</c>.</summary>
internal static class TelemetryKeys
{
    public const string DotnetMetrics = "dotnet_metrics";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [DotnetMetrics];
}
