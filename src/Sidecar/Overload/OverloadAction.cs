namespace Sidecar.Overload;

/// <summary>What overload protection gave up: the <c>action</c> label of <c>sidecar_overload_shed_total</c>.</summary>
internal static class OverloadAction
{
    /// <summary>A request body was forwarded once instead of being buffered for replay.</summary>
    public const string BodyNotBuffered = "body_not_buffered";

    /// <summary>A request was answered 503 because memory pressure was high.</summary>
    public const string RequestRejected = "request_rejected";

    /// <summary>A request was answered 503 because <c>limits.max_concurrent_requests</c> were in flight.</summary>
    public const string ConcurrencyLimit = "concurrency_limit";

    /// <summary>A connection waited in the kernel's accept queue while accepting was paused.</summary>
    public const string ConnectionHeld = "connection_held";

    /// <summary>The accept loop waited because <c>limits.max_pending_connections</c> connections had not been read yet.</summary>
    public const string ConnectionLimit = "connection_limit";

    /// <summary>Every value, so each series can start at 0.</summary>
    public static readonly string[] All = [BodyNotBuffered, RequestRejected, ConcurrencyLimit, ConnectionHeld, ConnectionLimit];
}
