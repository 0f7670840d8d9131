using Sidecar.Http;

namespace Sidecar.Telemetry;

/// <summary>
/// The <c>result</c> label of <c>sidecar_upstream_attempts_total</c>: the <see cref="StatusClass"/> of the attempt's
/// response (<c>1xx</c>..<c>5xx</c>, <c>other</c>), or, when no response arrived, one of these.
/// </summary>
internal static class AttemptResult
{
    public const string ConnectFailure = RetryReason.ConnectFailure;
    public const string Reset = RetryReason.Reset;
    public const string PerTryTimeout = RetryReason.PerTryTimeout;

    /// <summary>A response HTTP does not allow (an upstream response that breaks HTTP's rules, answered with a 502): the caller got a 502.</summary>
    public const string InvalidResponse = "invalid_response";

    /// <summary>A transport error that is none of the above (e.g. the request body could not be read).</summary>
    public const string Error = "error";

    /// <summary>The caller left, or the attempt lost a hedging race and was cancelled.</summary>
    public const string Cancelled = "cancelled";
}
