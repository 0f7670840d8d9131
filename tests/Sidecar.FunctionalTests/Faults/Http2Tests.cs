using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// HTTP/2 without TLS (h2c, prior knowledge) from Sidecar to the upstream. From the caller to Sidecar it is not
/// possible yet: Kestrel serves a cleartext Http1AndHttp2 endpoint as HTTP/1.1 only (it answers an h2c preface with
/// HTTP_1_1_REQUIRED), so h2c callers need a listener of their own.
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
}
