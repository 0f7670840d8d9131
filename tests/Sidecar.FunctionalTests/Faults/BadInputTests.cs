using System.Net;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// Malformed or hostile input from the caller or the upstream: every case ends in a clean response (the upstream's, or
/// a 4xx/5xx Sidecar or Kestrel chose), never a 500 from an unhandled exception, and nothing Sidecar logs as a bug.
/// </summary>
public sealed class BadInputTests
{
    private static string Config(string destination) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          open:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { status: [503] }
            retry_after: { honor: true, max: 50ms }
            timeout: 5s
            allow_overrides: true
          strict:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { status: [503] }
            retry_after: { honor: true, max: 50ms }
            timeout: 5s
        routes:
          - name: open
            match: { path: "/open/{**rest}" }
            cluster: app
            policy: open
          - name: strict
            match: { path: "/strict/{**rest}" }
            cluster: app
            policy: strict
        """;

    [Theory]
    [InlineData("x-sidecar-timeout-ms", "abc")]
    [InlineData("x-sidecar-timeout-ms", "-5")]
    [InlineData("x-sidecar-timeout-ms", "0")]
    [InlineData("x-sidecar-timeout-ms", "99999999999999999999999999")]
    [InlineData("x-sidecar-timeout-ms", "1e3")]
    [InlineData("x-sidecar-timeout-ms", "  250  ")]
    [InlineData("x-sidecar-timeout-ms", "250, 300")]
    [InlineData("x-sidecar-timeout-ms", "1")]
    [InlineData("x-sidecar-max-attempts", "garbage")]
    [InlineData("x-sidecar-max-attempts", "-1")]
    [InlineData("x-sidecar-max-attempts", "0")]
    [InlineData("x-sidecar-max-attempts", "99999999999999999999")]
    [InlineData("x-sidecar-max-attempts", "2.5")]
    [InlineData("grpc-timeout", "abc")]
    [InlineData("grpc-timeout", "99999999H")]
    [InlineData("grpc-timeout", "999999999S")]
    [InlineData("grpc-timeout", "-1S")]
    [InlineData("grpc-timeout", "1")]
    [InlineData("grpc-timeout", "1n")]
    [InlineData("Idempotency-Key", "")]
    [InlineData("x-sidecar-attempt", "7")]
    [InlineData("x-sidecar-", "?")]
    public async Task Proxy_MalformedCallerControlHeader_CleanResponse(string name, string value)
    {
        using var upstream = ScriptedUpstream.Cycle(Response.Create().WithStatusCode(503).WithBody("busy"), Response.Create().WithBody("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        foreach (var path in new[] { "/open/x", "/strict/x" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("b") };
            Assert.True(request.Headers.TryAddWithoutValidation(name, value));
            request.Headers.TryAddWithoutValidation("Idempotency-Key", "k");

            using var response = await sidecar.Proxy.SendAsync(request);

            AssertClean(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync());
        }

        Assert.All(upstream.Snapshot(), r => Assert.DoesNotContain(r.Headers.Keys, k => k.Equals(name, StringComparison.OrdinalIgnoreCase) && k.StartsWith("x-sidecar-", StringComparison.OrdinalIgnoreCase) && r.Header(k) == value));
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("x-sidecar-timeout-ms")]
    [InlineData("x-sidecar-max-attempts")]
    [InlineData("grpc-timeout")]
    public async Task Proxy_RepeatedControlHeaderLines_CleanResponse(string name)
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"GET /open/x HTTP/1.1\r\nHost: sidecar\r\n{name}: 1\r\n{name}: 2S\r\n{name}: 300\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("ok", response.Body);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("Retry-After", "soon")]
    [InlineData("Retry-After", "-1")]
    [InlineData("Retry-After", "99999999999999999999999")]
    [InlineData("Retry-After", "Wed, 99 Foo 2099 25:61:61 GMT")]
    [InlineData("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")]
    [InlineData("Retry-After", "Mon, 01 Jan 0001 00:00:00 GMT")]
    [InlineData("Retry-After", "1, 2")]
    [InlineData("x-sidecar-retry-pushback-ms", "abc")]
    [InlineData("x-sidecar-retry-pushback-ms", "-")]
    [InlineData("x-sidecar-retry-pushback-ms", "99999999999999999999")]
    [InlineData("x-sidecar-retry-pushback-ms", "-99999999999999999999")]
    [InlineData("grpc-timeout", "garbage")]
    public async Task Proxy_GarbageServerDirectedDelay_CleanResponse(string name, string value)
    {
        using var upstream = ScriptedUpstream.Start(
            Response.Create().WithStatusCode(503).WithHeader(name, value).WithBody("busy"),
            Response.Create().WithHeader(name, value).WithBody("ok"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/open/x");

        var body = await response.Content.ReadAsStringAsync();
        AssertClean(response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
        Assert.Contains(response.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable });
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_OversizedRequestHeaders_Returns431()
    {
        using var upstream = ScriptedUpstream.Status(200);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var many = new HttpRequestMessage(HttpMethod.Get, "/open/x");
        for (var i = 0; i < 200; i++)
        {
            many.Headers.TryAddWithoutValidation("x-filler-" + i, new string('a', 500));
        }

        using var manyResponse = await sidecar.Proxy.SendAsync(many);
        using var one = new HttpRequestMessage(HttpMethod.Get, "/strict/x");
        one.Headers.TryAddWithoutValidation("x-sidecar-timeout-ms", new string('9', 40_000));
        using var oneResponse = await sidecar.Proxy.SendAsync(one);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, manyResponse.StatusCode);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, oneResponse.StatusCode);
        Assert.Equal(0, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_OversizedUpstreamResponseHeaders_Returns502Problem()
    {
        var filler = Enumerable.Range(0, 200).ToDictionary(i => "x-filler-" + i, _ => new string('a', 500));
        using var upstream = ScriptedUpstream.Start(Response.Create().WithHeaders(filler).WithBody("too much"));
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        using var response = await sidecar.Proxy.GetAsync("/open/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        sidecar.Logs.AssertNoBugs();
    }

    /// <summary>The upstream's own answers ("ok"/"busy"), or an error Sidecar or Kestrel made on purpose; never an unhandled 500.</summary>
    internal static void AssertClean(HttpStatusCode status, string? mediaType, string body)
    {
        var code = (int)status;
        if ((code == 200 && body == "ok") || (code == 503 && body == "busy"))
        {
            return;
        }

        Assert.True(code is >= 400 and < 600 and not 500, $"unexpected {code}: {body}");
        Assert.True(mediaType == "application/problem+json" || code is 400 or 413 or 431, $"{code} without problem+json: {mediaType} {body}");
    }
}
