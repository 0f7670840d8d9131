using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A real Kestrel https upstream on 127.0.0.1 with an ephemeral port, serving a certificate the test chose (which it
/// may swap), optionally requiring a client certificate issued by a given CA. It answers 200 with the subject of the
/// client certificate it was shown, and records the SNI name of each handshake.
/// </summary>
public sealed class TlsUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private X509Certificate2 _certificate;
    private int _count;

    private TlsUpstream(WebApplication app, X509Certificate2 certificate)
    {
        _app = app;
        _certificate = certificate;
    }

    public Uri Address { get; private set; } = null!;

    public int Port => Address.Port;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The SNI name of every handshake (empty when the client sent none).</summary>
    public ConcurrentQueue<string> ServerNames { get; } = new();

    /// <summary>The certificate served to new handshakes.</summary>
    public X509Certificate2 Certificate
    {
        get => Volatile.Read(ref _certificate);
        set => Volatile.Write(ref _certificate, value);
    }

    /// <param name="certificate">The server certificate (with its key).</param>
    /// <param name="requireClientCertificateFrom">Require a client certificate issued by this CA.</param>
    /// <param name="http2Only">Speak HTTP/2 only (negotiated by ALPN).</param>
    /// <param name="closeEachConnection">Speak HTTP/1.1 and answer with <c>Connection: close</c>, so every request is a new handshake.</param>
    public static async Task<TlsUpstream> StartAsync(X509Certificate2 certificate, X509Certificate2? requireClientCertificateFrom = null, bool http2Only = false, bool closeEachConnection = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        TlsUpstream? upstream = null;
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, listen =>
        {
            // Connection: close means nothing to HTTP/2, so an upstream that closes each connection speaks HTTP/1.1 only.
            listen.Protocols = http2Only ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2
                : closeEachConnection ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1
                : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = context =>
                {
                    upstream!.ServerNames.Enqueue(context.ClientHelloInfo.ServerName ?? string.Empty);
                    var options = new SslServerAuthenticationOptions
                    {
                        ServerCertificate = upstream.Certificate,
                        ApplicationProtocols = http2Only ? [SslApplicationProtocol.Http2]
                            : closeEachConnection ? [SslApplicationProtocol.Http11]
                            : [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    };
                    if (requireClientCertificateFrom is { } clientCa)
                    {
                        options.ClientCertificateRequired = true;
                        options.RemoteCertificateValidationCallback = (_, certificate, chain, _) => IssuedBy(certificate, chain, clientCa);
                    }

                    return ValueTask.FromResult(options);
                },
            });
        }));
        var app = builder.Build();
        upstream = new TlsUpstream(app, certificate);
        app.Run(async context =>
        {
            Interlocked.Increment(ref upstream._count);
            var client = await context.Connection.GetClientCertificateAsync();
            if (closeEachConnection)
            {
                context.Response.Headers.Connection = "close";
            }

            await context.Response.WriteAsync("client=" + (client?.GetNameInfo(X509NameType.SimpleName, false) ?? "none") + ";protocol=" + context.Request.Protocol + ";host=" + context.Request.Host);
        });
        await app.StartAsync();
        upstream.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>
    /// Whether the client's certificate chains to <paramref name="authority"/>, the only trusted root, through the
    /// intermediates the client sent (the TLS layer puts them in <paramref name="presented"/>'s extra store): an
    /// intermediate the client leaves out makes the chain partial, as with any server that trusts only its root.
    /// </summary>
    private static bool IssuedBy(X509Certificate? certificate, X509Chain? presented, X509Certificate2 authority)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (presented is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }

        return chain.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }
}
