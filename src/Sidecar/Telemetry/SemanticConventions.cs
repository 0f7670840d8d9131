namespace Sidecar.Telemetry;

/// <summary>Span attribute names: OpenTelemetry HTTP semantic conventions, and <c>sidecar.*</c> for ours.</summary>
internal static class SemanticConventions
{
    public const string HttpRequestMethod = "http.request.method";
    public const string HttpResponseStatusCode = "http.response.status_code";

    /// <summary>Why an operation failed: for an attempt without a response, its result label (<c>per_try_timeout</c>, ...).</summary>
    public const string ErrorType = "error.type";

    /// <summary>
    /// The ordinal number of request resending attempt (for any reason); set on retries only.
    /// https://opentelemetry.io/docs/specs/semconv/http/http-spans/#http-client-span
    /// </summary>
    public const string HttpRequestResendCount = "http.request.resend_count";

    /// <summary>A gRPC call's final status code, as a number (OpenTelemetry RPC conventions).</summary>
    public const string RpcGrpcStatusCode = "rpc.grpc.status_code";

    public const string SidecarRoute = "sidecar.route";
    public const string SidecarAttempt = "sidecar.attempt";
    public const string SidecarAttempts = "sidecar.attempts";
    public const string SidecarResult = "sidecar.result";
    public const string SidecarOutcome = "sidecar.outcome";

    /// <summary>On an attempt followed by a retry: the retry's <c>sidecar_retries_total</c> reason.</summary>
    public const string SidecarRetryReason = "sidecar.retry.reason";

    /// <summary>On an attempt followed by a retry: the backoff before it, in milliseconds.</summary>
    public const string SidecarRetryWaitMs = "sidecar.retry.wait_ms";

    /// <summary>On the last attempt: why no retry followed (a skip reason such as <c>budget</c>, else the request's outcome).</summary>
    public const string SidecarStopReason = "sidecar.stop_reason";
}
