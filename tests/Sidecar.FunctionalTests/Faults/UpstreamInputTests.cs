using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// What an upstream sends that must not reach the caller as sent: hop-by-hop headers, copies of Sidecar's own
/// <c>x-sidecar-*</c> headers, responses HTTP does not allow; and what the caller gets when no response comes at all.
/// Each case runs on a route with a policy, a hedged route and a route without one.
/// </summary>
public sealed class UpstreamInputTests
{
    private static string Config(string destination) => ThreeRoutes.Config(destination, "{ status: [503], errors: [connect-failure, reset] }");

    [Theory]
    [InlineData("/p/x")]
    [InlineData("/h/x")]
    [InlineData("/n/x")]
    public async Task Proxy_HeadersNamedInUpstreamConnection_NotReturned(string path)
    {
        await using var upstream = Replying("HTTP/1.1 200 OK\r\nConnection: close, X-Secret\r\nConnection: x-other-SECRET\r\nX-Secret: 1\r\nX-Other-Secret: 2\r\nX-Public: 3\r\nContent-Length: 2\r\n\r\nok");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await Get(sidecar, path);

        Assert.Equal(200, response.Status);
        Assert.Equal("ok", response.Body);
        Assert.Null(response.Header("X-Secret"));
        Assert.Null(response.Header("X-Other-Secret"));
        Assert.Equal("3", response.Header("X-Public"));
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/x")]
    [InlineData("/h/x")]
    [InlineData("/n/x")]
    public async Task Proxy_UpstreamCopiesOfSidecarHeaders_Stripped(string path)
    {
        await using var upstream = Replying(
            "HTTP/1.1 200 OK\r\nx-sidecar-validation: failed\r\nx-sidecar-retry-pushback-ms: 5\r\nx-sidecar-attempts: 9\r\nX-Sidecar-Anything: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await Get(sidecar, path);

        Assert.Equal(200, response.Status);
        var sidecarHeaders = response.Text.Split("\r\n\r\n")[0].Split("\r\n").Where(l => l.StartsWith("x-sidecar-", StringComparison.OrdinalIgnoreCase)).ToArray();
        // Only Sidecar's own answer is left: one attempt.
        Assert.Equal(["x-sidecar-attempts: 1"], sidecarHeaders);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/x", "204 No Content\r\nContent-Length: 2")]
    [InlineData("/h/x", "204 No Content\r\nContent-Length: 2")]
    [InlineData("/n/x", "204 No Content\r\nContent-Length: 2")]
    [InlineData("/p/x", "101 Switching Protocols\r\nContent-Length: 2")]
    [InlineData("/n/x", "101 Switching Protocols\r\nContent-Length: 2")]
    [InlineData("/p/x", "101 Switching Protocols\r\nUpgrade: other")]
    [InlineData("/n/x", "101 Switching Protocols\r\nUpgrade: other")]
    [InlineData("/p/x", "205 Reset Content\r\nContent-Length: 2")]
    [InlineData("/n/x", "205 Reset Content\r\nContent-Length: 2")]
    [InlineData("/p/x", "099 Early\r\nContent-Length: 2")]
    [InlineData("/h/x", "099 Early\r\nContent-Length: 2")]
    [InlineData("/n/x", "099 Early\r\nContent-Length: 2")]
    [InlineData("/p/x", "600 Beyond\r\nContent-Length: 2")]
    [InlineData("/n/x", "999 Beyond\r\nContent-Length: 2")]
    public async Task Proxy_InvalidUpstreamResponse_Returns502ProblemAndCountsIt(string path, string statusAndFraming)
    {
        await using var upstream = Replying($"HTTP/1.1 {statusAndFraming}\r\nConnection: close\r\n\r\nhi");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await Get(sidecar, path);

        Assert.Equal(502, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Equal("invalid_upstream_response", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal(502, problem.RootElement.GetProperty("status").GetInt32());
        var route = path[1] switch { 'p' => "policy", 'h' => "hedged", _ => "plain" };
        Assert.Equal(route, problem.RootElement.GetProperty("route").GetString());
        // Not retried, except that a hedged request may have started its other attempt: each is counted.
        var attempts = problem.RootElement.GetProperty("attempts").GetInt32();
        Assert.Equal(route == "hedged" ? 2 : 1, attempts);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(attempts, PrometheusText.Value(metrics, "sidecar_upstream_attempts_total", "route=" + route, "result=invalid_response"));
        sidecar.Logs.AssertNoBugs();
        // A Warning line without a stack trace (the detail of further ones is at Debug).
        Assert.DoesNotContain(sidecar.Logs.GetSnapshot(), l => l.Exception is not null && l.Level >= LogLevel.Warning);
        Assert.Contains(sidecar.Logs.GetSnapshot(), l => l.Level == LogLevel.Warning && l.Id.Id == 300);
    }

    [Theory]
    [InlineData("/p/x", "304 Not Modified\r\nContent-Length: 2", 304)]
    [InlineData("/n/x", "304 Not Modified\r\nContent-Length: 2", 304)]
    [InlineData("/p/x", "204 No Content\r\nContent-Length: 0", 204)]
    [InlineData("/n/x", "204 No Content\r\nContent-Length: 0", 204)]
    [InlineData("/n/x", "205 Reset Content\r\nContent-Length: 0", 205)]
    [InlineData("/n/x", "204 No Content\r\nTransfer-Encoding: chunked", 204)]
    [InlineData("/p/x", "599 Last\r\nContent-Length: 2", 599)]
    public async Task Proxy_BodilessStatusWithAllowedFraming_ForwardedAsIs(string path, string statusAndFraming, int expected)
    {
        // RFC 9110 §8.6: a 304 may carry the Content-Length a 200 would have had; it still has no content.
        await using var upstream = Replying($"HTTP/1.1 {statusAndFraming}\r\nConnection: close\r\n\r\nhi");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await Get(sidecar, path);

        Assert.Equal(expected, response.Status);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_RouteWithoutPolicyUpstreamRefuses_Returns502Problem()
    {
        await using var sidecar = await RunningSidecar.StartAsync(Config($"http://127.0.0.1:{FreePort.Get()}"));

        var response = await Get(sidecar, "/n/x");

        Assert.Equal(502, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Equal("plain", problem.RootElement.GetProperty("route").GetString());
        Assert.Equal(1, problem.RootElement.GetProperty("attempts").GetInt32());
        Assert.Equal(502, problem.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("1", response.Header("x-sidecar-attempts"));
        sidecar.Logs.AssertNoBugs();
    }

    private static RawUpstream Replying(string response) => RawUpstream.Start(async (_, connection) =>
    {
        await connection.ReadRequestAsync();
        await connection.WriteAsync(response);
    });

    private static Task<RawResponse> Get(RunningSidecar sidecar, string path) =>
        RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET {path} HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");
}
