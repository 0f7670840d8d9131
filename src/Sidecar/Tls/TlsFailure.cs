using System.Net.Sockets;
using System.Security.Authentication;

namespace Sidecar.Tls;

/// <summary>
/// Tells a TLS handshake refused on a certificate from a connection that broke during the handshake, and says which,
/// in words an operator can act on. A refusal fails the same way on every attempt; a reset may not.
/// </summary>
internal static class TlsFailure
{
    /// <summary>
    /// The error is a handshake refused on a certificate: Sidecar's own check refused the server's certificate
    /// (<see cref="UpstreamCertificateException"/>), the server asked for a client certificate Sidecar does not have
    /// (<see cref="UpstreamClientCertificateException"/>), or the TLS layer failed the handshake with an alert (the server
    /// refused Sidecar's client certificate, or none was sent) while the connection itself held.
    /// </summary>
    public static bool IsCertificateFailure(Exception? exception)
    {
        var authentication = false;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case UpstreamCertificateException or UpstreamClientCertificateException:
                    return true;
                case SocketException:
                    // The connection broke during the handshake: a reset, retriable as one.
                    return false;
                case AuthenticationException:
                    authentication = true;
                    break;
            }
        }

        return authentication;
    }

    /// <summary>
    /// What the caller's 502 says: <c>certificate of payments.internal:8443 is not trusted: issuer CN=Corp Root</c>, or
    /// for a handshake the server refused, <c>payments.internal:8443 refused the TLS handshake: ...</c>.
    /// </summary>
    public static string Describe(Exception? exception, string authority)
    {
        Exception? innermost = null;
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is UpstreamCertificateException refused)
            {
                return $"certificate of {authority} {refused.Problem}";
            }

            if (current is UpstreamClientCertificateException asked)
            {
                return $"{authority} {asked.Problem}";
            }

            innermost = current;
        }

        var reason = innermost?.Message ?? "handshake failed";
        return reason.Contains("certificate required", StringComparison.OrdinalIgnoreCase)
            ? $"{authority} requires a client certificate (tls.cert_file and tls.key_file): {reason}"
            : $"{authority} refused the TLS handshake (a client certificate it does not accept, or no TLS version or cipher in common): {reason}";
    }
}
