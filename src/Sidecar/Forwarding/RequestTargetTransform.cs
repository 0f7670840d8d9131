using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Forwarding;

/// <summary>
/// Forwards the caller's raw request target (see <see cref="RawRequestTarget"/>) on every route, so an encoded path
/// such as <c>/a%2Fb</c> reaches the upstream as sent. It costs what YARP's own URL would: one string and one
/// <see cref="Uri"/>, which YARP then does not build.
/// </summary>
internal sealed class RequestTargetTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var request = context.HttpContext.Request;
        // Only while no transform has set the URL or changed the path (Sidecar has none; YARP's own X-Forwarded
        // transforms touch neither), and with no path base, which YARP leaves out of the URL but the raw target holds.
        if (context.ProxyRequest.RequestUri is null
            && !request.PathBase.HasValue
            && string.Equals(context.Path.Value, request.Path.Value, StringComparison.Ordinal)
            && RawRequestTarget.TryGet(context.HttpContext, out var target))
        {
            context.ProxyRequest.RequestUri = RawRequestTarget.Destination(context.DestinationPrefix, target);
        }

        return ValueTask.CompletedTask;
    }
}
