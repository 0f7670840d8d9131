using System.Text;
using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>Sidecar does not widen what a caller can do: no overrides unless allowed, no secrets, no open proxy, limits on.</summary>
public sealed class SafetyTests
{
    private static string Config(string destination, string policyExtra = "") => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { status: [503] }
            timeout: 10s
            {{policyExtra}}
        routes:
          - name: retried
            match: { path: "/retried/{**rest}" }
            cluster: app
            policy: p
          - name: plain
            match: { path: "/{**rest}" }
            cluster: app
        """;

    [Fact]
    public async Task Proxy_ControlHeadersWithoutAllowOverrides_IgnoredAndNotForwarded()
    {
        using var upstream = ScriptedUpstream.Status(503, "busy");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/retried/x");
        request.Headers.Add("x-sidecar-max-attempts", "1");
        request.Headers.Add("x-sidecar-timeout-ms", "1");

        using var response = await sidecar.Proxy.SendAsync(request);

        // Neither the 1-attempt limit nor the 1 ms deadline applied: the policy's three attempts ran.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("busy", await response.Content.ReadAsStringAsync());
        Assert.Equal(3, upstream.Count);
        Assert.All(upstream.Snapshot(), r =>
        {
            Assert.Null(r.Header("x-sidecar-max-attempts"));
            Assert.Null(r.Header("x-sidecar-timeout-ms"));
        });
    }

    [Fact]
    public async Task Admin_DestinationWithCredentials_NeverShowsThem()
    {
        using var upstream = ScriptedUpstream.Status(200);
        var withCredentials = upstream.Url.Replace("http://", "http://svc-user:s3cr3t-t0ken@", StringComparison.Ordinal);
        await using var sidecar = await RunningSidecar.StartAsync(Config(withCredentials));

        var config = await sidecar.Admin.GetStringAsync("/config");
        using var metrics = await sidecar.Admin.GetAsync("/metrics");
        var metricsText = await metrics.Content.ReadAsStringAsync();
        using var unknown = await sidecar.Admin.GetAsync("/x");

        Assert.Contains(upstream.Address.Authority, config, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", config, StringComparison.Ordinal);
        Assert.DoesNotContain("svc-user", config, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", metricsText, StringComparison.Ordinal);
        Assert.DoesNotContain(sidecar.Logs.GetSnapshot(), r => r.Message.Contains("s3cr3t", StringComparison.Ordinal));
        // The admin port proxies nothing.
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(0, upstream.Count);
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/retried/x")]
    public async Task Proxy_AbsoluteFormTarget_OnlyReachesConfiguredCluster(string path)
    {
        using var upstream = ScriptedUpstream.Status(200, "configured");
        using var evil = ScriptedUpstream.Status(200, "evil");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var target = evil.Address.Authority;

        var sameHost = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET http://{target}{path} HTTP/1.1\r\nHost: {target}\r\nConnection: close\r\n\r\n");
        var otherHost = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET http://{target}{path} HTTP/1.1\r\nHost: sidecar.local\r\nConnection: close\r\n\r\n");

        Assert.Equal(0, evil.Count);
        foreach (var response in new[] { sameHost, otherHost })
        {
            Assert.True(response.Status is 200 or (>= 400 and < 500), response.Text);
            if (response.Status == 200)
            {
                Assert.Equal("configured", response.Body);
            }
        }

        // Whatever reached the configured upstream went there with the upstream's own authority.
        Assert.All(upstream.Snapshot(), r => Assert.Equal(upstream.Address.Authority, r.Header("Host")));
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/retried/x")]
    public async Task Proxy_ConnectMethod_RefusedAndNeverTunnels(string route)
    {
        using var upstream = ScriptedUpstream.Status(200, "configured");
        using var evil = ScriptedUpstream.Status(200, "evil");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        var target = evil.Address.Authority;

        // Authority-form, as a browser or curl sends it to an HTTP proxy; then the same with an origin-form path.
        var authorityForm = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\nGET / HTTP/1.1\r\nHost: {target}\r\n\r\n");
        var pathForm = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"CONNECT {route} HTTP/1.1\r\nHost: {target}\r\nContent-Length: 0\r\n\r\n");

        Assert.InRange(authorityForm.Status, 400, 499);
        Assert.InRange(pathForm.Status, 400, 499);
        Assert.Equal(0, evil.Count);
        Assert.DoesNotContain(upstream.Snapshot(), r => r.Method == "CONNECT");
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/retried/x")]
    public async Task Proxy_BodyOverKestrelLimit_Returns413(string path)
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        const long FortyMegabytes = 40L * 1024 * 1024;

        // Declares 40 MB and starts sending: Kestrel's 30 MB MaxRequestBodySize must answer before the rest is needed.
        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"PUT {path} HTTP/1.1\r\nHost: sidecar\r\nContent-Length: {FortyMegabytes}\r\nIdempotency-Key: k\r\n\r\n",
            new byte[64 * 1024]);

        Assert.Equal(413, response.Status);
        Assert.Equal(0, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/retried/x")]
    public async Task Proxy_ChunkedBodyOverKestrelLimit_Returns413(string path)
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        // 31 chunks of 1 MiB: no Content-Length, so Kestrel's 30 MB MaxRequestBodySize fires while the body is forwarded.
        using var body = new MemoryStream();
        var chunk = new byte[1024 * 1024];
        for (var i = 0; i < 31; i++)
        {
            body.Write(Encoding.ASCII.GetBytes("100000\r\n"));
            body.Write(chunk);
            body.Write("\r\n"u8);
        }

        body.Write("0\r\n\r\n"u8);

        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"PUT {path} HTTP/1.1\r\nHost: sidecar\r\nTransfer-Encoding: chunked\r\nIdempotency-Key: k\r\n\r\n",
            body.ToArray(),
            within: TimeSpan.FromSeconds(30));

        Assert.Equal(413, response.Status);
        sidecar.Logs.AssertNoBugs();
    }
}
