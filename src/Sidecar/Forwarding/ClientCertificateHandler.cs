using System.Net.Security;
using Sidecar.Tls;

namespace Sidecar.Forwarding;

/// <summary>
/// The handler of a cluster whose <c>tls</c> has a <c>cert_file</c>: one <see cref="SocketsHttpHandler"/> per generation
/// of the certificate files, each with a <see cref="SslClientAuthenticationOptions.ClientCertificateContext"/> made of
/// the leaf and the intermediates after it in <c>cert_file</c>, so the server gets the whole chain. (A certificate
/// chosen by a selection callback goes out alone, or with what .NET finds in the system's stores, which hold no private
/// CA's intermediates: a server that trusts only the root then refuses it.) A handler's TLS options are copied into
/// each of its connection pools when the pool starts, so a new certificate needs a new handler: the first request
/// after a rotation makes one, and new connections use it.
/// </summary>
/// <remarks>
/// The replaced handler keeps serving the requests already sent on it, and its idle connections close after
/// <see cref="UpstreamHttpClientFactory.PooledConnectionIdleTimeout"/>. It is disposed at the next rotation (days later,
/// as certificates go), not at this one: a request that picked it an instant before the swap still reaches it whole.
/// </remarks>
internal sealed class ClientCertificateHandler : HttpMessageHandler
{
    private readonly CertificateSource _source;
    private readonly Func<SocketsHttpHandler> _newHandler;
    private readonly Lock _swapping = new();
    private Generation _current;
    private Generation? _retired;

    /// <param name="source">The cluster's certificate files.</param>
    /// <param name="first">The handler YARP made for the cluster, configured, for the files as loaded now.</param>
    /// <param name="newHandler">Makes a handler configured as <paramref name="first"/> was, for later generations.</param>
    public ClientCertificateHandler(CertificateSource source, SocketsHttpHandler first, Func<SocketsHttpHandler> newHandler)
    {
        _source = source;
        _newHandler = newHandler;
        _current = Generation.For(source.Current, first);
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (!ReferenceEquals(current.Material, _source.Current))
        {
            current = Swap();
        }

        return current.Invoker.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken) =>
        SendAsync(request, cancellationToken).GetAwaiter().GetResult();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (_swapping)
            {
                _retired?.Invoker.Dispose();
                _current.Invoker.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private Generation Swap()
    {
        lock (_swapping)
        {
            var material = _source.Current;
            if (ReferenceEquals(_current.Material, material))
            {
                return _current;
            }

            _retired?.Invoker.Dispose();
            _retired = _current;
            var next = Generation.For(material, _newHandler());
            Volatile.Write(ref _current, next);
            return next;
        }
    }

    private sealed record Generation(CertificateMaterial Material, HttpMessageInvoker Invoker)
    {
        public static Generation For(CertificateMaterial material, SocketsHttpHandler handler)
        {
            // Without a certificate (its files did not load yet) the selection callback stays in charge and ends the
            // handshake with the reason when the server asks for one.
            if (material.Certificate is { } certificate)
            {
                handler.SslOptions.ClientCertificateContext = SslStreamCertificateContext.Create(certificate, material.Chain, offline: true);
            }

            return new Generation(material, new HttpMessageInvoker(handler, disposeHandler: true));
        }
    }
}
