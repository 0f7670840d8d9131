using Sidecar.Http;

namespace Sidecar.Hosting;

/// <summary>Answers requests that match no route: 404 problem+json, never forwarded anywhere (not an open proxy).</summary>
internal static class NoRouteHandler
{
    public static Task HandleAsync(HttpContext context) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status404NotFound, "No route matches this request", route: null, attempts: 0, reason: "no_route");
}
