using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// HTTP/2 without TLS (h2c, prior knowledge), from Sidecar to the upstream (cluster <c>protocol: http2</c>) and from
/// the caller to Sidecar (<c>listen.proxy_protocol: h2c</c>: a cleartext port serves one protocol).
/// </summary>
public sealed class Http2Tests
{
    private static string Config(string destination, string clusterExtra = "") => $$"""
        clusters:
          app: { destinations: [{{destination}}]{{clusterExtra}} }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { status: [503] }
            timeout: 10s
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        """;

    [Fact]
    public async Task Proxy_H2cOnlyUpstreamWithProtocolHttp2_ForwardsOverHttp2AndRetries()
    {
        // Kestrel: the upstream must speak HTTP/2 only (h2c) and report the protocol it was reached with.
        await using var upstream = await TestUpstream.StartAsync(
            async (context, n) =>
            {
                context.Response.StatusCode = n < 2 ? 503 : 200;
                await context.Response.WriteAsync(context.Request.Protocol);
            },
            http2Only: true);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, ", protocol: http2"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_H2cCallerAndH2cUpstream_RetriesOverHttp2BothWays()
    {
        // Kestrel: the upstream must speak HTTP/2 only (h2c) and report the protocol it was reached with.
        await using var upstream = await TestUpstream.StartAsync(
            async (context, n) =>
            {
                context.Response.StatusCode = n < 2 ? 503 : 200;
                await context.Response.WriteAsync(context.Request.Protocol);
            },
            http2Only: true);
        await using var sidecar = await RunningSidecar.StartAsync(
            "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n  proxy_protocol: h2c\n" + Config(upstream.Url, ", protocol: http2"));
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false })
        {
            BaseAddress = sidecar.ProxyAddress,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        using var response = await client.GetAsync("/x");

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/2", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        sidecar.Logs.AssertNoBugs();
    }
}
