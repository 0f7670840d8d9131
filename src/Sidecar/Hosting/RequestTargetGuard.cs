using Microsoft.AspNetCore.Http.Features;
using Sidecar.Forwarding;
using Sidecar.Http;
using Sidecar.Overload;

namespace Sidecar.Hosting;

/// <summary>
/// Refuses, before YARP sees them, requests that would make Sidecar more than a proxy for its configured routes:
/// 1. <c>CONNECT</c> asks for a TCP tunnel (RFC 9110 §9.3.6); Sidecar is no tunnel proxy, so it is 405 on every route.
///    HTTP/2 extended CONNECT (RFC 8441, WebSockets over HTTP/2) is no tunnel and passes.
/// 2. A declared <c>Content-Length</c> above Kestrel's <c>MaxRequestBodySize</c> is 413 at once. Left to YARP, the
///    limit fires only once the body is being streamed upstream, and the caller gets a 502 instead of a 413.
/// 3. A Transfer-Encoding with a coding other than chunked is 501: Sidecar would forward the body undecoded.
/// 4. An absolute-form target (<c>GET http://other/p HTTP/1.1</c>) is routed and forwarded as its origin form
///    (<see cref="AbsoluteFormTarget"/>); its authority is never a destination: YARP sends to the route's cluster.
/// It runs before routing (SidecarHost calls <c>UseRouting</c> after it), so routing sees the rewritten path.
/// </summary>
internal static class RequestTargetGuard
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // The first middleware every request meets. The first request of a connection keeps its pending-connection
        // slot until admission lets it in (its body is still unread: RequestDispatchMiddleware frees it then), or
        // until it is answered without being proxied.
        if (context.Features.Get<ConnectionSlots.PendingConnection>() is { Held: true } pending)
        {
            return FirstRequestAsync(context, next, pending);
        }

        return GuardAsync(context, next);
    }

    private static async Task FirstRequestAsync(HttpContext context, RequestDelegate next, ConnectionSlots.PendingConnection pending)
    {
        try
        {
            await GuardAsync(context, next);
        }
        finally
        {
            pending.Read();
        }
    }

    private static Task GuardAsync(HttpContext context, RequestDelegate next)
    {
        AbsoluteFormTarget.RewriteToOriginForm(context);
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method) && context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect != true)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "CONNECT is not supported: Sidecar is not a tunnel proxy", route: null, attempts: 0, reason: "method_not_allowed");
        }

        if (request.Headers.TransferEncoding.Count > 0 && HasCodingOtherThanChunked(request.Headers.TransferEncoding))
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status501NotImplemented, "The request's Transfer-Encoding has a coding other than chunked, which Sidecar does not decode", route: null, attempts: 0, reason: "transfer_coding_not_supported");
        }

        if (request.ContentLength is { } length
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { MaxRequestBodySize: { } max }
            && length > max)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is larger than the server accepts", route: null, attempts: 0, reason: "body_too_large");
        }

        return next(context);
    }

    /// <summary>
    /// Kestrel frames a body whose last coding is chunked and leaves the others (<c>gzip, chunked</c>) undone: forwarded
    /// without them, the upstream would read compressed bytes as the body. nginx and Envoy answer 501 (RFC 9112 §6.1).
    /// </summary>
    private static bool HasCodingOtherThanChunked(Microsoft.Extensions.Primitives.StringValues values)
    {
        if (values.Count == 1 && string.Equals(values[0], "chunked", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var value in values)
        {
            foreach (var coding in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (!string.Equals(coding, "chunked", StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
