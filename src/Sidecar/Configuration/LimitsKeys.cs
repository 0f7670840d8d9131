namespace Sidecar.Configuration;

/// <summary>The keys of <c>limits</c>.</summary>
internal static class LimitsKeys
{
    public const string MaxBufferedBytes = "max_buffered_bytes";
    public const string MaxConcurrentRequests = "max_concurrent_requests";
    public const string MaxPendingConnections = "max_pending_connections";
    public const string MaxWaitingRetries = "max_waiting_retries";
    public const string MaxQueueWait = "max_queue_wait";
    public const string IdleConnectionTimeout = "idle_connection_timeout";
    public const string RequestHeaderTimeout = "request_header_timeout";
    public const string MinRequestBodyRate = "min_request_body_rate";
    public const string DrainTimeout = "drain_timeout";
    public const string DrainDelay = "drain_delay";
    public const string Overload = "overload";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [MaxBufferedBytes, MaxConcurrentRequests, MaxPendingConnections, MaxQueueWait, MaxWaitingRetries, IdleConnectionTimeout, RequestHeaderTimeout, MinRequestBodyRate, DrainTimeout, DrainDelay, Overload];

    /// <summary>The keys of <c>limits.overload</c>.</summary>
    internal static class OverloadKeys
    {
        public const string Enabled = "enabled";
        public const string CheckInterval = "check_interval";
        public const string StopBuffering = "stop_buffering";
        public const string RejectRequests = "reject_requests";
        public const string StopAccepting = "stop_accepting";
        public const string RecoveryMargin = "recovery_margin";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Enabled, CheckInterval, StopBuffering, RejectRequests, StopAccepting, RecoveryMargin];
    }
}
