namespace Sidecar.Telemetry;

/// <summary>
/// How one upstream attempt ended: the <c>result</c> label of <c>sidecar_upstream_attempts_total</c> and of the attempt's
/// span. A response is labelled by its status class (<see cref="AttemptResults.OfStatus"/>); an attempt without one by
/// what happened instead. Its label is <see cref="AttemptResults.Label"/>, the one place the spellings live.
/// </summary>
internal enum AttemptResult
{
    /// <summary>A 1xx response.</summary>
    Status1xx,

    /// <summary>A 2xx response.</summary>
    Status2xx,

    /// <summary>A 3xx response.</summary>
    Status3xx,

    /// <summary>A 4xx response.</summary>
    Status4xx,

    /// <summary>A 5xx response.</summary>
    Status5xx,

    /// <summary>A status outside 100..599.</summary>
    OtherStatus,

    /// <summary>No connection to the upstream (or an HTTP/2 stream it refused).</summary>
    ConnectFailure,

    /// <summary>The connection or stream broke after the request was sent.</summary>
    Reset,

    /// <summary>The attempt's own timer (per-try timeout or the deadline) ended it.</summary>
    PerTryTimeout,

    /// <summary>A response HTTP does not allow (an upstream response that breaks HTTP's rules, answered with a 502): the caller got a 502.</summary>
    InvalidResponse,

    /// <summary>A transport error that is none of the above (e.g. the request body could not be read).</summary>
    Error,

    /// <summary>The caller left, or the attempt lost a hedging race and was cancelled.</summary>
    Cancelled,

    /// <summary>The TLS handshake failed on a certificate (untrusted, wrong name, expired, client certificate refused).</summary>
    Tls,
}
