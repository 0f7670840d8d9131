using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Grpc;

/// <summary>
/// gRPC through the real Sidecar: a Grpc.Net.Client caller on an h2c listener, a Grpc.AspNetCore upstream behind an
/// <c>http2</c> cluster, and policies with <c>retry_on.grpc</c>.
/// </summary>
public sealed class GrpcProxyTests
{
    private static string Config(string upstream, string policy = "", string routeExtra = "") => $$"""
        listen:
          proxy: http://127.0.0.1:0
          admin: http://127.0.0.1:0
          proxy_protocol: h2c
        clusters:
          app: { destinations: [{{upstream}}], protocol: http2 }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
        {{policy}}
        routes:
          - name: grpc
            match: { path: "/sidecar.test.Echo/{**rest}" }
            cluster: app
        {{routeExtra}}
        """;

    [Fact]
    public async Task Unary_RouteWithoutPolicy_PassesThrough()
    {
        await using var upstream = await GrpcUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        var reply = await client.Echo.UnaryAsync(new EchoRequest { Text = "hello" }, deadline: DateTime.UtcNow.AddSeconds(10));

        Assert.Equal("hello", reply.Text);
        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }
}
