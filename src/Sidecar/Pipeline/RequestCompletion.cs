using System.Diagnostics;
using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Pipeline;

/// <summary>
/// Records a finished request, with or without a policy: <c>sidecar_requests_total</c> and its duration and
/// attempts, the request span's outcome, and a gRPC call's final status (which can turn an HTTP success into a failure).
/// </summary>
internal static class RequestCompletion
{
    /// <returns>The outcome recorded: a gRPC call whose final status is not OK is <see cref="RequestOutcome.NotRetryable"/>.</returns>
    public static RequestOutcome Record(HttpContext context, RoutePlan route, string policyLabel, RequestOutcome outcome, int attempts, TimeSpan duration, Activity? requestActivity, SidecarMetrics metrics)
    {
        var grpcStatus = GrpcProtocol.IsGrpc(context.Request) ? FinalGrpcStatus(context, outcome) : -1;
        if (grpcStatus > 0 && outcome is RequestOutcome.Success or RequestOutcome.SuccessAfterRetry)
        {
            // HTTP 200 with a non-OK status in the trailers: the call failed, whatever the HTTP status says.
            outcome = RequestOutcome.NotRetryable;
        }

        metrics.RequestCompleted(route.RouteName, policyLabel, context.Request.Method, outcome, CallerStatusClass(context, outcome), attempts, duration, grpcStatus);
        SidecarActivitySource.SetRequestOutcome(requestActivity, outcome, attempts, context.Response.StatusCode, grpcStatus);
        return outcome;
    }

    /// <summary>The <c>status_class</c> label: the class of the status the caller got, <c>none</c> when it left before any response went out.</summary>
    private static string CallerStatusClass(HttpContext context, RequestOutcome outcome) =>
        outcome == RequestOutcome.ClientCancelled && !context.Response.HasStarted ? StatusClass.None : StatusClass.Of(context.Response.StatusCode);

    /// <summary>
    /// The status a gRPC caller got: <c>grpc-status</c> from the trailers YARP passed on, else from the headers of a
    /// trailers-only answer (the upstream's or Sidecar's). A caller that left is CANCELLED; no status at all (the
    /// stream broke) is UNKNOWN.
    /// </summary>
    private static int FinalGrpcStatus(HttpContext context, RequestOutcome outcome)
    {
        if (outcome == RequestOutcome.ClientCancelled)
        {
            return GrpcStatus.Cancelled;
        }

        var trailers = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        var value = trailers is null ? default : trailers[GrpcProtocol.Status];
        if (value.Count == 0)
        {
            value = context.Response.Headers[GrpcProtocol.Status];
        }

        return value.Count == 1 && GrpcStatus.TryParseHeader(value[0], out var code) ? code : GrpcStatus.Unknown;
    }
}
