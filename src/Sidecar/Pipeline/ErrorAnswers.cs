using Sidecar.Forwarding;
using Sidecar.Http;
using Sidecar.Overload;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Pipeline;

/// <summary>The problem+json answers Sidecar gives the caller itself when the upstream's response cannot be used.</summary>
internal static class ErrorAnswers
{
    private const string CallerBodyTitle = "The request body could not be read";

    public static Task CircuitOpenAsync(HttpContext context, RoutePlan route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Circuit open: every destination of the cluster is failing", route.RouteName, attempts, RequestOutcome.CircuitOpen.Label());

    public static Task InvalidResponseAsync(HttpContext context, string? route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, InvalidUpstreamResponse.ProblemTitle, route, attempts, InvalidUpstreamResponse.ProblemReason);

    public static Task BodyNotReplayableAsync(HttpContext context, string route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "The request body could not be sent again", route, attempts, RetrySkipReasons.Label(RetrySkipReason.BodyNotReplayable));

    public static Task DeadlineBeforeAttemptAsync(HttpContext context, string route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Deadline exceeded before the upstream answered", route, attempts, RequestOutcome.DeadlineExceeded.Label());

    public static Task TimedOutAsync(HttpContext context, string route, int attempts, RequestOutcome outcome) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The upstream did not answer in time", route, attempts, outcome.Label());

    /// <summary>Kestrel's own request limits (body too large, too slow, bad chunking) while buffering: the caller's fault.</summary>
    public static Task CallerBodyAsync(HttpContext context, string route, BadHttpRequestException exception, SidecarMetrics metrics) =>
        CallerBodyAsync(context, route, 0, exception.StatusCode, exception.Message, metrics);

    /// <summary>
    /// A body Kestrel stopped reading: 408 when it arrived slower than <c>limits.min_request_body_rate</c> (counted as
    /// <c>sidecar_overload_shed_total{action="body_too_slow"}</c>, not logged: the caller decides how often), else its
    /// own status (413 past <c>MaxRequestBodySize</c>, 400).
    /// </summary>
    private static Task CallerBodyAsync(HttpContext context, string? route, int attempts, int status, string? detail, SidecarMetrics? metrics)
    {
        if (status == StatusCodes.Status408RequestTimeout)
        {
            metrics?.OverloadShed(OverloadAction.BodyTooSlow.Label());
            return ProblemResponse.WriteAsync(context, status, "The request body arrived too slowly", route, attempts, OverloadAction.BodyTooSlow.Label(), detail);
        }

        return ProblemResponse.WriteAsync(context, status, CallerBodyTitle, route, attempts, "bad_request", detail);
    }

    /// <summary>
    /// The problem+json for a forwarding error, on routes with and without a policy: 504 when the attempt ran out of
    /// time (YARP's own timeout answers 504 too), 503 with no healthy destination, 400 when the caller's body broke
    /// off, else 502. YARP itself would leave a bare status with an empty body.
    /// </summary>
    /// <remarks>
    /// A TLS handshake refused on a certificate is a 502 whose detail names the cause and the destination (for a gRPC
    /// caller, UNAVAILABLE with that message), logged at Warning through <paramref name="tlsLog"/>.
    /// </remarks>
    public static Task NoResponseAsync(HttpContext context, string? route, int attempts, RequestOutcome outcome, IForwarderErrorFeature errorFeature, bool timedOut, TlsFailureLog? tlsLog = null, SidecarMetrics? metrics = null)
    {
        var error = errorFeature.Error;
        var reason = outcome.Label();
        var kind = TransportErrorClassifier.Classify(error, errorFeature.Exception, timedOut);
        if (timedOut || context.Response.StatusCode == StatusCodes.Status504GatewayTimeout)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The upstream did not answer in time", route, attempts, reason, NoResponseDetail.Describe(context, errorFeature, TransportErrorKind.PerTryTimeout));
        }

        if (kind == TransportErrorKind.Tls)
        {
            var detail = NoResponseDetail.Describe(context, errorFeature, kind);
            tlsLog?.Failed(route, detail);
            return ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "TLS handshake with the upstream failed", route, attempts, reason, detail, grpcMessage: detail);
        }

        return error switch
        {
            ForwarderError.NoAvailableDestinations => ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "No healthy upstream destination", route, attempts, reason, error.ToString()),
            // Kestrel's own limits (a chunked body past MaxRequestBodySize is 413) keep their status.
            ForwarderError.RequestBodyClient => CallerBodyBrokeAsync(context, route, attempts, errorFeature.Exception, metrics),
            _ => ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "No response from the upstream", route, attempts, reason, NoResponseDetail.Describe(context, errorFeature, kind)),
        };
    }

    /// <summary>
    /// The caller's body broke while it was forwarded: Kestrel's status and reason when it refused the body (408 too
    /// slow, 413 past MaxRequestBodySize, 400 for malformed chunking), else 400 with the error's own message (the
    /// caller left mid-body).
    /// </summary>
    private static Task CallerBodyBrokeAsync(HttpContext context, string? route, int attempts, Exception? exception, SidecarMetrics? metrics)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException bad)
            {
                return CallerBodyAsync(context, route, attempts, bad.StatusCode, bad.Message, metrics);
            }
        }

        return CallerBodyAsync(context, route, attempts, StatusCodes.Status400BadRequest, exception?.Message ?? nameof(ForwarderError.RequestBodyClient), metrics);
    }
}
