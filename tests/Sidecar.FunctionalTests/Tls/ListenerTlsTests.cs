using System.Net;
using System.Security.Cryptography.X509Certificates;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Tls;

/// <summary>
/// <c>listen.tls</c>: the proxy port serves https with the configured certificate, never cleartext, and with
/// <c>client_ca_file</c> only callers presenting a certificate from that CA get through.
/// </summary>
public sealed class ListenerTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create("Listener Root");

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task HttpsListener_CallerTrustingTheCa_Gets200OverTls()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("hello"));
        var (certFile, keyFile) = _certificates.WritePem(_certificates.Server("localhost"), "listener");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, $"cert_file: {certFile}\n    key_file: {keyFile}"));
        using var client = Client(clientCertificate: null);

        using var response = await client.GetAsync(new Uri(sidecar.ProxyAddress, "/x"));

        Assert.Equal("https", sidecar.ProxyAddress.Scheme);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("hello", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task HttpsListener_CertificateFromAnIntermediate_SendsTheChainOfCertFile()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("hello"));
        using var intermediate = _certificates.Intermediate("Corp Issuing CA");
        using var server = _certificates.Server("localhost", issuer: intermediate);
        var (certFile, keyFile) = _certificates.WritePem(server, "listener", intermediate);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, $"cert_file: {certFile}\n    key_file: {keyFile}"));
        using var client = Client(clientCertificate: null);

        using var response = await client.GetAsync(new Uri(sidecar.ProxyAddress, "/x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task HttpsListener_PlainHttpCaller_GetsNoCleartextAnswer()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("hello"));
        var (certFile, keyFile) = _certificates.WritePem(_certificates.Server("localhost"), "listener");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, $"cert_file: {certFile}\n    key_file: {keyFile}"));
        using var client = new HttpClient();

        var cleartext = new UriBuilder(sidecar.ProxyAddress) { Scheme = "http", Path = "/x" }.Uri;
        var exception = await Record.ExceptionAsync(async () => (await client.GetAsync(cleartext)).Dispose());

        Assert.IsType<HttpRequestException>(exception);
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task ClientCaFile_CallerWithACertificateFromIt_Gets200()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("hello"));
        var (certFile, keyFile) = _certificates.WritePem(_certificates.Server("localhost"), "listener");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, $"cert_file: {certFile}\n    key_file: {keyFile}\n    client_ca_file: {_certificates.CaFile}"));
        using var client = Client(_certificates.Client("app"));

        using var response = await client.GetAsync(new Uri(sidecar.ProxyAddress, "/x"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ClientCaFile_CallerWithoutCertificateOrFromAnotherCa_IsRefused()
    {
        await using var upstream = await TestUpstream.StartAsync((context, _) => context.Response.WriteAsync("hello"));
        var (certFile, keyFile) = _certificates.WritePem(_certificates.Server("localhost"), "listener");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, $"cert_file: {certFile}\n    key_file: {keyFile}\n    client_ca_file: {_certificates.CaFile}"));
        using var stranger = TestCertificates.Create("Stranger Root");
        using var withoutCertificate = Client(clientCertificate: null);
        using var fromAnotherCa = Client(stranger.Client("intruder"));

        var refusedWithout = await Record.ExceptionAsync(async () => (await withoutCertificate.GetAsync(new Uri(sidecar.ProxyAddress, "/x"))).Dispose());
        var refusedOther = await Record.ExceptionAsync(async () => (await fromAnotherCa.GetAsync(new Uri(sidecar.ProxyAddress, "/x"))).Dispose());

        Assert.IsType<HttpRequestException>(refusedWithout);
        Assert.IsType<HttpRequestException>(refusedOther);
        Assert.Equal(0, upstream.Count);
    }

    private static string Config(string upstream, string tls) => $$"""
        listen:
          proxy: https://127.0.0.1:0
          admin: http://127.0.0.1:0
          tls:
            {{tls}}
        clusters:
          app: { destinations: [{{upstream}}] }
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
        """;

    private HttpClient Client(X509Certificate2? clientCertificate)
    {
        var handler = new SocketsHttpHandler { UseProxy = false };
        var authority = _certificates.Authority;
        // Trusts the root only: an intermediate must come from the server, in the handshake's extra store.
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, presented, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(authority);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (presented is not null)
            {
                chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
            }

            return certificate is X509Certificate2 leaf && chain.Build(leaf);
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }
}
