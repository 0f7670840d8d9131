using System.Net.Sockets;
using System.Security.Authentication;
using Sidecar.Retries;
using Sidecar.Tls;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Tests.Retries;

/// <summary>A handshake refused on a certificate is <c>tls</c>; a connection that broke during the handshake stays a connect failure.</summary>
public sealed class TransportErrorClassifierTlsTests
{
    [Fact]
    public void Classify_ServerCertificateRefusedBySidecar_Tls()
    {
        var error = new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established", new UpstreamCertificateException("is not trusted: issuer CN=Corp Root"));

        Assert.Same(TransportErrorKind.Tls, TransportErrorClassifier.Classify(ForwarderError.Request, error, timedOut: false));
    }

    [Fact]
    public void Classify_HandshakeAlert_Tls()
    {
        var error = new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established", new AuthenticationException("Authentication failed", new InvalidOperationException("tlsv13 alert certificate required")));

        Assert.Same(TransportErrorKind.Tls, TransportErrorClassifier.Classify(ForwarderError.Request, error, timedOut: false));
    }

    [Fact]
    public void Classify_ResetDuringHandshake_ConnectFailure()
    {
        var error = new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established", new AuthenticationException("Authentication failed", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))));

        Assert.Same(TransportErrorKind.ConnectFailure, TransportErrorClassifier.Classify(ForwarderError.Request, error, timedOut: false));
    }

    [Fact]
    public void Describe_ClientCertificateMissing_NamesTheDestination()
    {
        var error = new HttpRequestException(HttpRequestError.SecureConnectionError, "x", new UpstreamClientCertificateException("requires a client certificate and the cluster has none (set tls.cert_file and tls.key_file)"));

        Assert.Equal("payments.internal:8443 requires a client certificate and the cluster has none (set tls.cert_file and tls.key_file)", TlsFailure.Describe(error, "payments.internal:8443"));
    }
}
