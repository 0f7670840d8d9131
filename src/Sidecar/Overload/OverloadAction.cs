namespace Sidecar.Overload;

/// <summary>
/// What overload protection gave up. Its label (the <c>action</c> of <c>sidecar_overload_shed_total</c>) is
/// <see cref="OverloadActions.Label"/>, the one place the spellings live.
/// </summary>
internal enum OverloadAction
{
    /// <summary>A request body was forwarded once instead of being buffered for replay.</summary>
    BodyNotBuffered,

    /// <summary>A request was answered 503 because memory pressure was high.</summary>
    RequestRejected,

    /// <summary>A request was answered 503 because <c>limits.max_concurrent_requests</c> were in flight and it could not wait for one to end.</summary>
    ConcurrencyLimit,

    /// <summary>A connection waited in the kernel's accept queue while accepting was paused.</summary>
    ConnectionHeld,

    /// <summary>The accept loop waited because <c>limits.max_pending_connections</c> connections had not been read yet.</summary>
    ConnectionLimit,

    /// <summary>At <c>limits.max_pending_connections</c>, a connection that had sent nothing was closed to make room.</summary>
    IdleConnectionClosed,

    /// <summary>A request waited for a slot because <c>limits.max_concurrent_requests</c> were in flight, or its route held its share.</summary>
    RequestQueued,

    /// <summary>A request was answered 408 because its body arrived slower than <c>limits.min_request_body_rate</c>.</summary>
    BodyTooSlow,
}
