namespace Sidecar.Telemetry;

/// <summary>
/// Why a wanted retry did not happen. Its label (the <c>reason</c> of <c>sidecar_retries_skipped_total</c> and of the
/// route's summary line) is <see cref="RetrySkipReasons.Label"/>, the one place the spellings live.
/// </summary>
internal enum RetrySkipReason
{
    /// <summary>The cluster's retry budget is spent.</summary>
    Budget,

    /// <summary>The policy's <c>max_concurrent_retries</c> are taken.</summary>
    Concurrency,

    /// <summary><c>limits.max_waiting_retries</c> (or the cluster's share of it) are waiting.</summary>
    BackoffCap,

    /// <summary>The body was too large (or the process-wide buffer full) to keep a copy.</summary>
    BodyNotReplayable,

    /// <summary>The wait would end at or past the deadline.</summary>
    Deadline,

    /// <summary>The method is not idempotent and carries no <c>Idempotency-Key</c>.</summary>
    Method,

    /// <summary>The upstream sent a negative pushback: do not retry.</summary>
    Pushback,

    /// <summary>The body was forwarded without a replay copy because memory pressure was high.</summary>
    Overloaded,
}
