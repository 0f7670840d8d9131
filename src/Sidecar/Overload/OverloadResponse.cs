using Sidecar.Http;

namespace Sidecar.Overload;

/// <summary>
/// The answer to a request Sidecar sheds: 503 <c>application/problem+json</c> with <c>Retry-After</c> and
/// <c>reason: overloaded</c>, or for a gRPC caller the gRPC form of the same, RESOURCE_EXHAUSTED.
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

    /// <summary>gRPC status 8: a resource (here Sidecar's memory or its request slots) is exhausted; clients may retry.</summary>
    private const string ResourceExhausted = "8";

    /// <summary>Answers <paramref name="context"/>'s request, shed for <paramref name="action"/> (an <see cref="OverloadAction"/>).</summary>
    public static Task WriteAsync(HttpContext context, string? route, string action)
    {
        var title = action == OverloadAction.ConcurrencyLimit
            ? "Sidecar is at its limit of concurrent requests"
            : "Sidecar is overloaded: memory is short";
        if (IsGrpc(context.Request))
        {
            return WriteGrpcAsync(context, title);
        }

        return ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title, route, attempts: 0, Reason, retryAfterSeconds: RetryAfterSeconds);
    }

    /// <summary><c>application/grpc</c>, <c>application/grpc+proto</c>, <c>application/grpc-web</c> and so on.</summary>
    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// A trailers-only response (gRPC over HTTP/2: HTTP 200 whose one HEADERS frame carries <c>grpc-status</c> and ends
    /// the stream), which every gRPC client reads as the call's status.
    /// </summary>
    private static Task WriteGrpcAsync(HttpContext context, string title)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = context.Request.ContentType;
        response.Headers["grpc-status"] = ResourceExhausted;
        // grpc-message is percent-encoded; the titles are printable ASCII without '%'.
        response.Headers["grpc-message"] = title;
        if (!HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            response.ContentLength = 0;
        }

        return Task.CompletedTask;
    }
}
