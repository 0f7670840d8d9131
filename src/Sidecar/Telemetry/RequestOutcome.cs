namespace Sidecar.Telemetry;

/// <summary>
/// What Sidecar did with one request: the <c>outcome</c> label of <c>sidecar_requests_total</c>. The status the caller
/// got is the separate <c>status_class</c> label; <see cref="Success"/> and <see cref="SuccessAfterRetry"/> are only
/// ever paired with a status below 500, so a 5xx can never hide under a success. Its label is
/// <see cref="RequestOutcomes.Label"/>, the one place the spellings live.
/// </summary>
internal enum RequestOutcome
{
    /// <summary>The first attempt's response, below 500, went to the caller.</summary>
    Success,

    /// <summary>A later attempt's response, below 500, went to the caller after one or more retries.</summary>
    SuccessAfterRetry,

    /// <summary>Every allowed attempt failed retryably: the caller got the last response (or a 502 when none came).</summary>
    Exhausted,

    /// <summary>The deadline (policy <c>timeout</c> or the caller's) passed: a 504, or the last response when waiting would miss it.</summary>
    DeadlineExceeded,

    /// <summary>A retry was refused by the retry budget, <c>max_concurrent_retries</c> or <c>max_waiting_retries</c>.</summary>
    BudgetExhausted,

    /// <summary>Every destination's circuit was open: a 503 without calling the upstream.</summary>
    CircuitOpen,

    /// <summary>
    /// The request failed and Sidecar did not retry it: a 5xx or a transport error on a route without a policy or
    /// outside the policy's <c>retry_on</c>, or a request that cannot be repeated (method, body, pushback), or a
    /// request Sidecar refused (unreadable body).
    /// </summary>
    NotRetryable,

    /// <summary>The caller disconnected first; <c>status_class</c> is <c>none</c> unless a response had started.</summary>
    ClientCancelled,

    /// <summary>Shed before it was proxied: Sidecar answered 503 (gRPC: RESOURCE_EXHAUSTED) itself.</summary>
    Overloaded,
}
