using Sidecar.Retries;
using Sidecar.Tls;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// The <c>detail</c> of a 502 without a response: what the last attempt met, and where, in words an operator can act
/// on (<c>could not connect to 10.0.0.7:8080: Connection refused</c>), not the forwarder's enum name.
/// </summary>
internal static class NoResponseDetail
{
    public static string Describe(HttpContext context, IForwarderErrorFeature error, TransportErrorKind kind)
    {
        var authority = Authority(context);
        var exception = error.Exception;
        if (kind == TransportErrorKind.Tls)
        {
            return TlsFailure.Describe(exception, authority);
        }

        var reason = Innermost(exception);
        if (kind == TransportErrorKind.ConnectFailure)
        {
            return $"could not connect to {authority}: {reason}";
        }

        if (kind == TransportErrorKind.Reset)
        {
            return $"the connection to {authority} broke before a complete response: {reason}";
        }

        return kind == TransportErrorKind.PerTryTimeout ? $"{authority} did not answer in time" : $"{error.Error}: {reason}";
    }

    /// <summary><c>host:port</c> of the destination the last attempt went to.</summary>
    public static string Authority(HttpContext context)
    {
        var address = context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.Model.Config.Address;
        return address is not null && Uri.TryCreate(address, UriKind.Absolute, out var uri) ? $"{uri.Host}:{uri.Port}" : "the upstream";
    }

    private static string Innermost(Exception? exception)
    {
        var current = exception;
        while (current?.InnerException is not null)
        {
            current = current.InnerException;
        }

        return current?.Message ?? "no response";
    }
}
