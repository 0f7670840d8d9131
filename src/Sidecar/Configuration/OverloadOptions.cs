namespace Sidecar.Configuration;

/// <summary>
/// <c>limits.overload:</c> what Sidecar gives up, and when, as its memory fills. Pressure is a fraction of the memory
/// limit (see <c>Overload/GcMemoryPressureSource</c>); each threshold turns on one more protection, and each turns off
/// again once pressure is <see cref="RecoveryMargin"/> below it, so a pressure that hovers at a threshold does not flap.
/// </summary>
internal sealed record OverloadOptions
{
    /// <summary>Watch memory pressure at all. Default true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>How often pressure is sampled. Default 250ms.</summary>
    public TimeSpan CheckInterval { get; init; } = ConfigDefaults.OverloadCheckInterval;

    /// <summary>From this pressure on, new request bodies are forwarded once instead of being buffered for replay. Default 0.6.</summary>
    public double StopBuffering { get; init; } = ConfigDefaults.OverloadStopBuffering;

    /// <summary>From this pressure on, new requests are answered 503 (gRPC: RESOURCE_EXHAUSTED) at once. Default 0.75.</summary>
    public double RejectRequests { get; init; } = ConfigDefaults.OverloadRejectRequests;

    /// <summary>From this pressure on, new connections wait in the kernel's accept queue. Default 0.9.</summary>
    public double StopAccepting { get; init; } = ConfigDefaults.OverloadStopAccepting;

    /// <summary>How far below a threshold pressure must fall before its protection turns off. Default 0.1.</summary>
    public double RecoveryMargin { get; init; } = ConfigDefaults.OverloadRecoveryMargin;
}
