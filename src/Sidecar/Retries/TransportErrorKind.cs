using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// What kind of transport error ended an attempt that got no response: the <c>retry_on.errors</c> flag that opts
/// into retrying it, its <c>sidecar_retries_total</c> reason, its <c>sidecar_upstream_attempts_total</c> result, and
/// whether the upstream can have seen the request. A new kind is one field here and one rule in
/// <see cref="TransportErrorClassifier"/>.
/// </summary>
internal sealed class TransportErrorKind
{
    /// <summary>No connection to the upstream (or an HTTP/2 stream it refused): the request never reached it.</summary>
    public static readonly TransportErrorKind ConnectFailure = new(RetryableErrors.ConnectFailure, RetryReason.ConnectFailure, AttemptResult.ConnectFailure, mayHaveReachedUpstream: false);

    /// <summary>The connection or stream broke after the request was sent.</summary>
    public static readonly TransportErrorKind Reset = new(RetryableErrors.Reset, RetryReason.Reset, AttemptResult.Reset, mayHaveReachedUpstream: true);

    /// <summary>
    /// The TLS handshake failed on a certificate (not trusted, wrong name, expired, the client's refused): the request
    /// never reached the upstream, and trying again fails the same way until a certificate changes, so only an
    /// explicit <c>retry_on.errors: [tls]</c> retries it.
    /// </summary>
    public static readonly TransportErrorKind Tls = new(RetryableErrors.Tls, RetryReason.Tls, AttemptResult.Tls, mayHaveReachedUpstream: false);

    /// <summary>The attempt's own timer (per-try timeout or the deadline) ended it.</summary>
    public static readonly TransportErrorKind PerTryTimeout = new(RetryableErrors.PerTryTimeout, RetryReason.PerTryTimeout, AttemptResult.PerTryTimeout, mayHaveReachedUpstream: true);

    /// <summary>Any other error (the caller's body broke off, no destination): never retried.</summary>
    public static readonly TransportErrorKind Other = new(RetryableErrors.None, string.Empty, AttemptResult.Error, mayHaveReachedUpstream: true);

    private TransportErrorKind(RetryableErrors flag, string reason, AttemptResult result, bool mayHaveReachedUpstream)
    {
        Flag = flag;
        Reason = reason;
        Result = result;
        MayHaveReachedUpstream = mayHaveReachedUpstream;
    }

    /// <summary>The <c>retry_on.errors</c> entry that retries this kind; <see cref="RetryableErrors.None"/> when none can.</summary>
    public RetryableErrors Flag { get; }

    public string Reason { get; }

    public AttemptResult Result { get; }

    /// <summary>False only when the upstream provably never saw the request, so any method may be retried.</summary>
    public bool MayHaveReachedUpstream { get; }
}
