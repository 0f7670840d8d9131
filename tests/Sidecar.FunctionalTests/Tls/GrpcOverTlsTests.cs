using Grpc.Core;
using Sidecar.FunctionalTests.Grpc;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Tls;

/// <summary>gRPC to an upstream over TLS (HTTP/2 negotiated by ALPN, a private CA), with retries; a certificate failure reaches a gRPC caller as UNAVAILABLE with the cause.</summary>
public sealed class GrpcOverTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create("Grpc Root");

    private static DateTime CallerDeadline => DateTime.UtcNow.AddSeconds(20);

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task Unary_UnavailableThenOk_RetriedOverTls()
    {
        await using var upstream = await GrpcUpstream.StartAsync(
            (n, _) => n == 1 ? throw new RpcException(new Status(StatusCode.Unavailable, "scripted")) : Task.CompletedTask,
            _certificates.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(new Uri(upstream.Url).Port, _certificates.CaFile));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest { Text = "hello" }, deadline: CallerDeadline);

        Assert.Equal("hello", reply.Text);
        Assert.Equal(2, upstream.Count);
        Assert.StartsWith("https://", upstream.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unary_UntrustedCertificate_UnavailableWithTheCause()
    {
        using var other = TestCertificates.Create("Other Root");
        await using var upstream = await GrpcUpstream.StartAsync(certificate: other.Server("localhost"));
        var port = new Uri(upstream.Url).Port;
        await using var sidecar = await RunningSidecar.StartAsync(Config(port, _certificates.CaFile));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.Echo.UnaryAsync(new EchoRequest(), deadline: CallerDeadline).ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal($"certificate of localhost:{port} is not trusted: issuer CN=Other Root", error.Status.Detail);
        Assert.Equal("1", error.Trailers.GetValue("x-sidecar-attempts"));
        Assert.Equal(0, upstream.Count);
    }

    private static string Config(int port, string caFile) => $$"""
        listen:
          proxy: http://127.0.0.1:0
          admin: http://127.0.0.1:0
          proxy_protocol: h2c
        clusters:
          app:
            destinations: [https://localhost:{{port}}]
            protocol: http2
            tls: { ca_file: {{caFile}} }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { grpc: [unavailable] }
        routes:
          - name: grpc
            match: { path: "/sidecar.test.Echo/{**rest}" }
            cluster: app
            policy: p
        """;
}
