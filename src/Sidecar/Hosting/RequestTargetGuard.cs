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
/// 3. An absolute-form target (<c>GET http://other/p HTTP/1.1</c>) is routed and forwarded as its origin form
///    (<see cref="AbsoluteFormTarget"/>); its authority is never a destination: YARP sends to the route's cluster.
/// It runs before routing (SidecarHost calls <c>UseRouting</c> after it), so routing sees the rewritten path.
/// </summary>
internal static class RequestTargetGuard
{
    public static Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        // The first middleware every request meets: its connection is read, so it no longer counts as pending.
        context.Features.Get<ConnectionSlots.PendingConnection>()?.Read();
        AbsoluteFormTarget.RewriteToOriginForm(context);
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method) && context.Features.Get<IHttpExtendedConnectFeature>()?.IsExtendedConnect != true)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "CONNECT is not supported: Sidecar is not a tunnel proxy", route: null, attempts: 0, reason: "method_not_allowed");
        }

        if (request.ContentLength is { } length
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { MaxRequestBodySize: { } max }
            && length > max)
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status413PayloadTooLarge, "The request body is larger than the server accepts", route: null, attempts: 0, reason: "body_too_large");
        }

        return next(context);
    }
}
