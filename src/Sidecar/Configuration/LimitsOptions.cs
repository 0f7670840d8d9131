namespace Sidecar.Configuration;

/// <summary><c>limits:</c> process-wide caps that keep a retry storm or a burst from hurting the host.</summary>
internal sealed record LimitsOptions
{
    /// <summary>
    /// All request bodies buffered for replay together stay under this many bytes, counted as they arrive. Default: a
    /// quarter of the memory
    /// available to the GC heap, at most 64 MiB (<see cref="MemoryBudget.MaxBufferedBytes"/>).
    /// </summary>
    public long MaxBufferedBytes { get; init; } = MemoryBudget.Current.MaxBufferedBytes;

    /// <summary>
    /// At most this many requests are proxied at once; more wait for a slot until their deadline (or
    /// <see cref="MaxQueueWait"/>), then are answered 503 (gRPC: RESOURCE_EXHAUSTED). While Sidecar has more than one route, one route holds at most seven eighths of them.
    /// Default: half of the memory available to the GC heap at 192 KiB a request (<see cref="MemoryBudget.MaxConcurrentRequests"/>).
    /// </summary>
    public int MaxConcurrentRequests { get; init; } = MemoryBudget.Current.MaxConcurrentRequests;

    /// <summary>
    /// At most this many client connections are pending at once (accepted, their first request not yet read); more wait
    /// in the kernel's accept queue (connected, not reset). Default: a quarter of the memory available to the GC heap at
    /// 64 KiB of receive buffer a connection (<see cref="MemoryBudget.MaxPendingConnections"/>).
    /// </summary>
    public int MaxPendingConnections { get; init; } = MemoryBudget.Current.MaxPendingConnections;

    /// <summary>
    /// The longest a request without a deadline waits for a slot at <see cref="MaxConcurrentRequests"/> before its 503;
    /// a request with a deadline (policy <c>timeout</c>, <c>x-sidecar-timeout-ms</c>, <c>grpc-timeout</c>) waits until
    /// it instead. Either way a request whose expected wait, from its place in line and the rate at which the line
    /// moves, already passes that bound is answered at once. 0s: no waiting without a deadline. Default 10s.
    /// </summary>
    public TimeSpan MaxQueueWait { get; init; } = ConfigDefaults.MaxQueueWait;

    /// <summary>
    /// At most this many requests wait in backoff at once; past it, requests are not retried. One cluster holds at most
    /// its share: the cap split equally between the clusters, but into no more than four shares. Default 1000.
    /// </summary>
    public int MaxWaitingRetries { get; init; } = ConfigDefaults.MaxWaitingRetries;

    /// <summary>
    /// A connection that has sent nothing for this long may be closed to make room at <see cref="MaxPendingConnections"/>.
    /// Default 5s.
    /// </summary>
    public TimeSpan IdleConnectionTimeout { get; init; } = ConfigDefaults.IdleConnectionTimeout;

    /// <summary>
    /// A request's headers must all arrive within this long of its first byte, or Kestrel answers 408 and closes the
    /// connection; also the grace a body has before <see cref="MinRequestBodyRate"/> applies. Default 10s.
    /// </summary>
    public TimeSpan RequestHeaderTimeout { get; init; } = ConfigDefaults.RequestHeaderTimeout;

    /// <summary>
    /// Bytes a second a request body must average once <see cref="RequestHeaderTimeout"/> has passed, or the request
    /// ends with a 408; 0 turns the check off. Streaming gRPC and upgraded connections are exempt. Default 1KiB.
    /// </summary>
    public long MinRequestBodyRate { get; init; } = ConfigDefaults.MinRequestBodyRate;

    /// <summary>How long in-flight requests may finish after SIGTERM. Default 25s.</summary>
    public TimeSpan DrainTimeout { get; init; } = ConfigDefaults.DrainTimeout;

    /// <summary>How long <c>/readyz</c> reports unready before new connections stop, so endpoints are removed. Default 5s.</summary>
    public TimeSpan DrainDelay { get; init; } = ConfigDefaults.DrainDelay;

    /// <summary>Memory-pressure thresholds of the overload manager.</summary>
    public OverloadOptions Overload { get; init; } = new();

    /// <summary>The memory the defaults above were derived from.</summary>
    public MemoryBudget Memory { get; init; } = MemoryBudget.Current;

    /// <summary><c>max_buffered_bytes</c> was set in the file (else derived from <see cref="Memory"/>).</summary>
    public bool MaxBufferedBytesConfigured { get; init; }

    /// <summary><c>max_concurrent_requests</c> was set in the file (else derived from <see cref="Memory"/>).</summary>
    public bool MaxConcurrentRequestsConfigured { get; init; }

    /// <summary><c>max_pending_connections</c> was set in the file (else derived from <see cref="Memory"/>).</summary>
    public bool MaxPendingConnectionsConfigured { get; init; }

    /// <summary>Where a memory-bound value came from: <c>config</c> or <c>derived from 96 MiB available</c>.</summary>
    public string Origin(bool configured) => configured ? "config" : Memory.DerivedLabel;
}
