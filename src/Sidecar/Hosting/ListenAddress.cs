using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Sidecar.Hosting;

/// <summary>Binds Kestrel to one <c>http://host:port</c> address from the config.</summary>
internal static class ListenAddress
{
    public static void Bind(KestrelServerOptions kestrel, string address, Action<ListenOptions>? configure = null)
    {
        var uri = new Uri(address, UriKind.Absolute);
        configure ??= static _ => { };
        var host = uri.Host;
        if (host is "0.0.0.0" or "*" or "+")
        {
            kestrel.Listen(IPAddress.Any, uri.Port, configure);
        }
        else if (host is "[::]" or "::")
        {
            kestrel.Listen(IPAddress.IPv6Any, uri.Port, configure);
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(uri.Port, configure);
        }
        else if (IPAddress.TryParse(uri.IdnHost, out var ip))
        {
            kestrel.Listen(ip, uri.Port, configure);
        }
        else
        {
            // A DNS name: resolve once at startup, as Envoy does for listener addresses.
            var resolved = Dns.GetHostAddresses(host);
            foreach (var candidate in resolved)
            {
                kestrel.Listen(candidate, uri.Port, configure);
            }
        }
    }
}
