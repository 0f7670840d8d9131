using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Tls;

/// <summary>
/// The proxy listener's TLS (<c>listen.tls</c>): the server certificate and, with <c>client_ca_file</c>, the CAs a
/// caller's certificate must chain to. Kestrel asks for the options per connection, so a rotation reaches the next
/// handshake and leaves open connections alone.
/// </summary>
internal sealed class ListenerTls
{
    /// <summary>The listener's name in metrics and logs: <c>listen.proxy</c> is the only one with TLS.</summary>
    public const string Name = "proxy";

    private readonly TimeProvider _timeProvider;
    private CachedContext? _context;

    public ListenerTls(ListenTlsOptions options, TimeProvider timeProvider)
    {
        Options = options;
        _timeProvider = timeProvider;
        Source = new CertificateSource(MetricTags.Listener, Name, options.ClientCaFile, options.CertFile, options.KeyFile, timeProvider);
    }

    public ListenTlsOptions Options { get; }

    public CertificateSource Source { get; }

    /// <summary>The options of one handshake, from the current material.</summary>
    public SslServerAuthenticationOptions ServerOptions(List<SslApplicationProtocol> protocols)
    {
        var material = Source.Current;
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = ContextFor(material),
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = protocols,
            ClientCertificateRequired = Options.ClientCaFile is not null,
            RemoteCertificateValidationCallback = Options.ClientCaFile is null ? null : (_, certificate, chain, _) => IsTrustedClient(material, certificate, chain),
        };
    }

    /// <summary>A caller's certificate is accepted when it is valid now and chains to a CA of <c>client_ca_file</c>.</summary>
    private bool IsTrustedClient(CertificateMaterial material, X509Certificate? certificate, X509Chain? chain)
    {
        if (certificate is null || material.Authorities is not { } authorities)
        {
            return false;
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = CustomTrustChain.Create(authorities, chain, _timeProvider.GetUtcNow().UtcDateTime);

        return custom.Build(leaf);
    }

    /// <summary>One certificate context per generation: building it (the chain) per handshake would cost every connection.</summary>
    private SslStreamCertificateContext ContextFor(CertificateMaterial material)
    {
        var cached = Volatile.Read(ref _context);
        if (cached is not null && ReferenceEquals(cached.Material, material))
        {
            return cached.Context;
        }

        var context = SslStreamCertificateContext.Create(material.Certificate!, material.Chain, offline: true);
        Volatile.Write(ref _context, new CachedContext(material, context));
        return context;
    }

    private sealed record CachedContext(CertificateMaterial Material, SslStreamCertificateContext Context);
}
