namespace Sidecar.Configuration;

/// <summary><c>telemetry:</c> what Sidecar measures beyond its own <c>sidecar_*</c> series. Read at startup only.</summary>
internal sealed record TelemetryOptions
{
    /// <summary>
    /// Also publish .NET's built-in meters on <c>/metrics</c> and over OTLP: Kestrel's connections
    /// (<c>Microsoft.AspNetCore.Server.Kestrel</c>), the upstream HTTP client (<c>System.Net.Http</c>) and the runtime
    /// (<c>System.Runtime</c>: GC, heap, thread pool, CPU). Default <c>false</c>; off, those instruments have no
    /// listener and cost nothing on the request path.
    /// </summary>
    public bool DotnetMetrics { get; init; } = ConfigDefaults.DotnetMetrics;
}
