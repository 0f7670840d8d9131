using Sidecar.Tls;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Forwarding;

/// <summary>
/// Sends a cluster's <c>tls.server_name</c> as the Host of requests to its destinations: .NET's HTTP client takes the
/// TLS SNI name from the Host header (the handler's own <c>TargetHost</c> is overwritten per connection pool), so this
/// is what makes a destination given by IP receive the name in SNI. The certificate is checked against the same name
/// (<see cref="UpstreamTls"/>).
/// </summary>
internal sealed class ServerNameTransform : RequestTransform
{
    private readonly TlsRegistry _tls;

    public ServerNameTransform(TlsRegistry tls)
    {
        _tls = tls;
    }

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        if (context.HttpContext.Features.Get<IReverseProxyFeature>()?.Cluster.Config.ClusterId is { } cluster
            && _tls.For(cluster)?.Options.ServerName is { } name
            && Uri.TryCreate(context.DestinationPrefix, UriKind.Absolute, out var destination))
        {
            context.ProxyRequest.Headers.Host = destination.IsDefaultPort ? name : name + ":" + destination.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return default;
    }
}
