using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// Envoy's "would retry from headers": why, if at all, the policy retries a response, read from its status, its
/// trailers-only gRPC status, its headers (<c>retry_on</c>) and, last because it may read the body, <c>retry_until</c>.
/// </summary>
internal static class ResponseClassifier
{
    public static async ValueTask<ResponseClass> ClassifyAsync(RetryState state, HttpResponseMessage response, ResponseConditionEvaluator conditions, CancellationToken cancellationToken)
    {
        var plan = state.Plan;
        var status = (int)response.StatusCode;
        var grpcStatus = state.IsGrpc && TryGetTrailersOnlyStatus(response, out var trailersOnly) ? trailersOnly : -1;
        if (plan.IsRetryableStatus(status))
        {
            return new(SidecarHeaders.Number(status), grpcStatus, GrpcCondition: false, ValidationFailed: false);
        }

        if (grpcStatus > 0 && plan.IsRetryableGrpc(grpcStatus))
        {
            return new(GrpcStatus.RetryReason(grpcStatus), grpcStatus, GrpcCondition: true, ValidationFailed: false);
        }

        if (plan.Options.RetryOn.Headers.Count > 0 && plan.MatchesRetryHeader(response))
        {
            return new(RetryReason.Header, grpcStatus, GrpcCondition: false, ValidationFailed: false);
        }

        if (plan.Options.RetryUntil.Count > 0 && !await conditions.AcceptsAsync(plan, response, cancellationToken))
        {
            return new(RetryReason.Validation, grpcStatus, GrpcCondition: false, ValidationFailed: true);
        }

        return new(null, grpcStatus, GrpcCondition: false, ValidationFailed: false);
    }

    /// <summary>
    /// The status of a trailers-only gRPC response: <c>grpc-status</c> among the response headers (gRPC over HTTP/2).
    /// Once headers without it have arrived, the call is committed (gRFC A6): its status comes in the trailers, after
    /// messages that may already be with the caller.
    /// </summary>
    private static bool TryGetTrailersOnlyStatus(HttpResponseMessage response, out int status)
    {
        status = -1;
        return response.Headers.NonValidated.TryGetValues(GrpcProtocol.Status, out var values)
            && values.Count == 1
            && GrpcStatus.TryParseHeader(values.ToString(), out status);
    }
}

/// <summary>What <see cref="ResponseClassifier"/> found.</summary>
/// <param name="Reason">The <c>sidecar_retries_total</c> reason the policy retries it for; null when it does not.</param>
/// <param name="GrpcStatus">The trailers-only gRPC status; -1 when none.</param>
/// <param name="GrpcCondition">Retried for a <c>retry_on.grpc</c> code: for any method, as gRFC A6's retryable codes.</param>
/// <param name="ValidationFailed">A <c>retry_until</c> condition failed.</param>
internal readonly record struct ResponseClass(string? Reason, int GrpcStatus, bool GrpcCondition, bool ValidationFailed);
