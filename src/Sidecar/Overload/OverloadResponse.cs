using Sidecar.Grpc;
using Sidecar.Http;

namespace Sidecar.Overload;

/// <summary>
/// The answer to a request Sidecar sheds: 503 <c>application/problem+json</c> with <c>Retry-After</c> and
/// <c>reason: overloaded</c>, or for a gRPC caller the gRPC form of the same, RESOURCE_EXHAUSTED
/// (<see cref="ProblemResponse"/> decides the form).
/// </summary>
internal static class OverloadResponse
{
    /// <summary>The problem's <c>reason</c>.</summary>
    public const string Reason = "overloaded";

    /// <summary>
    /// Seconds a shed caller should wait: the overload manager samples 4 times a second and a burst drains in about a
    /// second, so asking for more would keep callers away after Sidecar has recovered.
    /// </summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>Answers <paramref name="context"/>'s request, shed for <paramref name="action"/>.</summary>
    public static Task WriteAsync(HttpContext context, string? route, OverloadAction action)
    {
        var title = action == OverloadAction.ConcurrencyLimit
            ? "Sidecar is at its limit of concurrent requests"
            : "Sidecar is overloaded: memory is short";
        // gRPC: RESOURCE_EXHAUSTED (8), a resource (Sidecar's memory or its request slots) is exhausted; clients may retry.
        return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title, route, attempts: 0, Reason, retryAfterSeconds: RetryAfterSeconds, grpcStatus: GrpcStatus.ResourceExhausted);
    }
}
