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
}
