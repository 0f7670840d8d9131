using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Forwarding;
using Sidecar.Tests.TestSupport;
using Sidecar.Tls;

namespace Sidecar.Tests.Forwarding;

/// <summary>
/// One <see cref="SocketsHttpHandler"/> per generation of a cluster's certificate files, each sending the leaf with the
/// intermediates of <c>cert_file</c>; the one before the last is disposed at the next rotation. Requests go to a closed
/// loopback port: the handler picks its generation before connecting.
/// </summary>
public sealed class ClientCertificateHandlerTests : IDisposable
{
    private readonly PemFolder _pem = new();
    private readonly Uri _closedPort = ClosedPort();

    public void Dispose() => _pem.Dispose();

    [Fact]
    public async Task SendAsync_FilesUnchanged_KeepsTheFirstHandlerWithTheChainOfCertFile()
    {
        var (cert, key) = _pem.Pair("one", viaIntermediate: true);
        var source = Loaded(cert, key);
        var first = new SocketsHttpHandler();
        var made = new List<SocketsHttpHandler>();
        using var invoker = new HttpMessageInvoker(new ClientCertificateHandler(source, first, () => Made(made)));

        await SendAsync(invoker);
        await SendAsync(invoker);

        Assert.Empty(made);
        var context = first.SslOptions.ClientCertificateContext!;
        Assert.Equal("CN=one", context.TargetCertificate.Subject);
        Assert.Equal("CN=Unit Issuing CA", Assert.Single(context.IntermediateCertificates).Subject);
    }

    [Fact]
    public async Task SendAsync_AfterRotations_NewHandlerPerGenerationAndTheOneBeforeTheLastDisposed()
    {
        var (cert, key) = _pem.Pair("one");
        var source = Loaded(cert, key);
        var first = new SocketsHttpHandler();
        var made = new List<SocketsHttpHandler>();
        using var invoker = new HttpMessageInvoker(new ClientCertificateHandler(source, first, () => Made(made)));
        await SendAsync(invoker);

        Rotate(source, cert, key, "two");
        await SendAsync(invoker);
        await SendAsync(invoker);

        var second = Assert.Single(made);
        Assert.Equal("CN=two", second.SslOptions.ClientCertificateContext!.TargetCertificate.Subject);
        Assert.Empty(second.SslOptions.ClientCertificateContext.IntermediateCertificates);
        // The first generation still serves what was sent on it: not disposed yet.
        await SendAsync(new HttpMessageInvoker(first, disposeHandler: false));

        Rotate(source, cert, key, "three");
        await SendAsync(invoker);

        Assert.Equal(2, made.Count);
        Assert.Equal("CN=three", made[1].SslOptions.ClientCertificateContext!.TargetCertificate.Subject);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => new HttpMessageInvoker(first, disposeHandler: false).SendAsync(new HttpRequestMessage(HttpMethod.Get, _closedPort), CancellationToken.None));
    }

    private static SocketsHttpHandler Made(List<SocketsHttpHandler> made)
    {
        var handler = new SocketsHttpHandler();
        made.Add(handler);
        return handler;
    }

    private static CertificateSource Loaded(string cert, string key)
    {
        var source = new CertificateSource("cluster", "c", null, cert, key, new FakeTimeProvider(DateTimeOffset.UtcNow));
        Assert.Equal(CertificateReloadResult.Loaded, source.Reload().Result);
        return source;
    }

    private void Rotate(CertificateSource source, string cert, string key, string name)
    {
        var (newCert, newKey) = _pem.Pair(name);
        File.Copy(newCert, cert, overwrite: true);
        File.Copy(newKey, key, overwrite: true);
        Assert.Equal(CertificateReloadResult.Rotated, source.Reload().Result);
    }

    /// <summary>A request that fails at connect: refused by a loopback port nothing listens on.</summary>
    private async Task SendAsync(HttpMessageInvoker invoker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, _closedPort);
        await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(request, CancellationToken.None));
    }

    private static Uri ClosedPort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"https://127.0.0.1:{port}/");
    }
}
