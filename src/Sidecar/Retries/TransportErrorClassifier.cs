using Sidecar.Tls;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Retries;

/// <summary>
/// Names the <see cref="TransportErrorKind"/> of an error YARP's forwarder reported, as small predicates in the order
/// they are tried (dotnet/extensions' <c>HttpClientResiliencePredicates</c> do the same for HttpClient).
/// </summary>
internal static class TransportErrorClassifier
{
    /// <summary>HTTP/2's REFUSED_STREAM error code.</summary>
    private const long RefusedStream = 0x7;

    /// <param name="error">What YARP reported.</param>
    /// <param name="exception">The exception behind it, if any.</param>
    /// <param name="timedOut">The attempt's own timer (per-try timeout or deadline) fired.</param>
    public static TransportErrorKind Classify(ForwarderError error, Exception? exception, bool timedOut)
    {
        if (timedOut || error == ForwarderError.RequestTimedOut)
        {
            return TransportErrorKind.PerTryTimeout;
        }

        return error switch
        {
            ForwarderError.Request when TlsFailure.IsCertificateFailure(exception) => TransportErrorKind.Tls,
            ForwarderError.Request when IsConnectFailure(exception) => TransportErrorKind.ConnectFailure,
            ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.RequestBodyDestination => TransportErrorKind.Reset,
            _ => TransportErrorKind.Other,
        };
    }

    private static bool IsConnectFailure(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
            {
                return true;
            }

            // An HTTP/2 stream refused by the upstream was not processed (RFC 9113 §8.7): as safe to retry as a connect failure.
            if (current is HttpProtocolException { ErrorCode: RefusedStream })
            {
                return true;
            }
        }

        return false;
    }
}
