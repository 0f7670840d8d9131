using System.Net.Security;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Sidecar.Tls;

namespace Sidecar.Hosting;

/// <summary>
/// Serves the proxy port over TLS with <c>listen.tls</c>. The handshake options come from the registry's
/// <see cref="ListenerTls"/> per connection, so a rotated certificate is served from the next handshake on.
/// </summary>
internal static class ListenerHttps
{
    public static void Use(ListenOptions listen, TlsRegistry registry)
    {
        var protocols = new List<SslApplicationProtocol>();
        if ((listen.Protocols & HttpProtocols.Http2) != 0)
        {
            protocols.Add(SslApplicationProtocol.Http2);
        }

        if ((listen.Protocols & HttpProtocols.Http1) != 0)
        {
            protocols.Add(SslApplicationProtocol.Http11);
        }

        listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ => ValueTask.FromResult(registry.Listener!.ServerOptions(protocols)),
        });
    }
}
