namespace Sidecar.Configuration;

/// <summary><c>limits:</c> process-wide caps that keep a retry storm from hurting the host.</summary>
internal sealed record LimitsOptions
{
    /// <summary>All request bodies buffered for replay together stay under this many bytes, counted as they arrive. Default 64 MiB.</summary>
    public long MaxBufferedBytes { get; init; } = ConfigDefaults.MaxBufferedBytes;

    /// <summary>
    /// At most this many requests wait in backoff at once; past it, requests are not retried. One cluster holds at most
    /// its share (see <see cref="Sidecar.Retries.BackoffWaitLimiter.ClusterShare"/>). Default 1000.
    /// </summary>
    public int MaxWaitingRetries { get; init; } = ConfigDefaults.MaxWaitingRetries;

    /// <summary>How long in-flight requests may finish after SIGTERM. Default 25s.</summary>
    public TimeSpan DrainTimeout { get; init; } = ConfigDefaults.DrainTimeout;

    /// <summary>How long <c>/readyz</c> reports unready before new connections stop, so endpoints are removed. Default 5s.</summary>
    public TimeSpan DrainDelay { get; init; } = ConfigDefaults.DrainDelay;
}
