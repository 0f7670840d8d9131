namespace Sidecar.Overload;

/// <summary>
/// The protections in force, each including the ones before it; the value of the <c>sidecar_overload_state</c> gauge.
/// </summary>
internal enum OverloadState
{
    /// <summary>Nothing is given up.</summary>
    Normal = 0,

    /// <summary>New request bodies are forwarded once instead of buffered for replay: no retry for them.</summary>
    StopBuffering = 1,

    /// <summary>New requests are answered 503 (gRPC: RESOURCE_EXHAUSTED) without being proxied.</summary>
    RejectRequests = 2,

    /// <summary>New connections wait in the kernel's accept queue until pressure falls.</summary>
    StopAccepting = 3,
}
