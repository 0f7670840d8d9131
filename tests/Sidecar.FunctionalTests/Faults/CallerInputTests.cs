using System.Collections.Concurrent;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// What a caller sends that must not reach the upstream as sent (hop-by-hop headers), must reach it exactly as sent
/// (the path), or must not change what Sidecar does (a blank <c>Idempotency-Key</c>), on routes with and without a
/// policy. Requests are written by hand on raw sockets and a raw upstream records what it received.
/// </summary>
public sealed class CallerInputTests
{
    private static string Config(string destination) => ThreeRoutes.Config(destination);

    [Theory]
    [InlineData("/p/x")]
    [InlineData("/h/x")]
    [InlineData("/n/x")]
    public async Task Proxy_MalformedChunkedBody_400ProblemWithKestrelsReason(string path)
    {
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            await connection.ReadRequestHeadAsync();
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        // "zz" is not a chunk size: Kestrel refuses the body while Sidecar reads it.
        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"PUT {path} HTTP/1.1\r\nHost: sidecar\r\nTransfer-Encoding: chunked\r\nIdempotency-Key: k\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");

        // Before: where the body is forwarded as it arrives (/p, /n) the detail was the forwarder's enum name,
        // "RequestBodyClient"; now it is Kestrel's reason, as it already was where the body is read first (/h).
        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.Header("Content-Type"));
        var problem = System.Text.Json.JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal("bad_request", problem.GetProperty("reason").GetString());
        Assert.Contains("chunk", problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Retry_PostWithBlankIdempotencyKey_IsNotRetried(string key)
    {
        await using var upstream = RawUpstream.Start(async (n, connection) =>
        {
            await connection.ReadRequestAsync();
            await connection.WriteAsync(n == 1
                ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
                : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"POST /p/pay HTTP/1.1\r\nHost: sidecar\r\nIdempotency-Key:{key}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}");

        // A blank key names no operation to deduplicate: the POST may not be repeated.
        Assert.Equal(503, response.Status);
        Assert.Equal("busy", response.Body);
        Assert.Equal("1", response.Header("x-sidecar-attempts"));
        Assert.Equal(1, upstream.Connections);
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/x")]
    [InlineData("/h/x")]
    [InlineData("/n/x")]
    public async Task Proxy_HeadersNamedInCallersConnection_NotForwarded(string path)
    {
        var heads = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            heads.Enqueue((await connection.ReadRequestAsync()).Head);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        // Without "close" or "keep-alive" beside them: Kestrel replaces a Connection header that holds one of those
        // (or "Upgrade") and unknown names with that one token before any application code runs, so the names are lost.
        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"GET {path} HTTP/1.1\r\nHost: sidecar\r\nConnection: X-Drop, x-also-DROP\r\nConnection: x-third\r\nX-Drop: 1\r\nX-Also-Drop: 2\r\nX-Third: 3\r\nX-Keep: 4\r\n\r\n");

        Assert.Equal(200, response.Status);
        var head = Assert.Single(heads);
        // RFC 9110 §7.6.1: the fields a Connection header names are for this hop only.
        Assert.Null(RawResponse.HeaderIn(head, "X-Drop"));
        Assert.Null(RawResponse.HeaderIn(head, "X-Also-Drop"));
        Assert.Null(RawResponse.HeaderIn(head, "X-Third"));
        Assert.Equal("4", RawResponse.HeaderIn(head, "X-Keep"));
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/", "a%2Fb")]
    [InlineData("/h/", "a%2Fb")]
    [InlineData("/n/", "a%2Fb")]
    [InlineData("/p/", "a%2fb?q=%2F&r=a%20b")]
    [InlineData("/n/", "a%2fb?q=%2F&r=a%20b")]
    [InlineData("/p/", "a%252Fb")]
    [InlineData("/n/", "a%252Fb")]
    [InlineData("/n/", "caf%C3%A9/x%20y/%41%7e")]
    [InlineData("/p/", "x/%2E%2Fy")]
    public async Task Proxy_EncodedPath_ReachesUpstreamAsTheCallerSentIt(string prefix, string rest)
    {
        var requestLines = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            requestLines.Enqueue((await connection.ReadRequestAsync()).Head.Split("\r\n")[0]);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        var response = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET {prefix}{rest} HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal($"GET {prefix}{rest} HTTP/1.1", Assert.Single(requestLines));
        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/", "..%2F..%2Fok")]
    [InlineData("/h/", "..%2F..%2Fok")]
    [InlineData("/n/", "..%2F..%2Fok")]
    [InlineData("/n/", "a%2fb?q=%2F&r=a%20b")]
    [InlineData("/n/", "caf%C3%A9/x%20y")]
    [InlineData("/x", "%2F..%2Fn/y")]
    public async Task Proxy_AbsoluteFormTarget_RoutedAndForwardedAsItsOriginForm(string prefix, string rest)
    {
        // The destination has a base path: an absolute-form target once escaped both it and the route (dotnet's
        // Uri.LocalPath decoded %2F, and the URL YARP built resolved the dots): "/public/..%2F..%2Fok" reached "/ok".
        var requestLines = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            requestLines.Enqueue((await connection.ReadRequestAsync()).Head.Split("\r\n")[0]);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url + "/base"));

        var originForm = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET {prefix}{rest} HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");
        var originLines = requestLines.ToArray();
        var absoluteForm = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET http://a{prefix}{rest} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

        Assert.Equal(originForm.Status, absoluteForm.Status);
        Assert.Equal(originLines, requestLines.Skip(originLines.Length));
        Assert.All(requestLines, line => Assert.StartsWith("GET /base/", line, StringComparison.Ordinal));
        if (originForm.Status == 200)
        {
            Assert.Equal($"GET /base{prefix}{rest} HTTP/1.1", Assert.Single(originLines));
        }

        sidecar.Logs.AssertNoBugs();
    }

    [Theory]
    [InlineData("/p/x", "gzip, chunked")]
    [InlineData("/n/x", "gzip, chunked")]
    [InlineData("/n/x", "br, chunked")]
    public async Task Proxy_TransferCodingOtherThanChunked_501AndNothingForwarded(string path, string codings)
    {
        var requestLines = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            requestLines.Enqueue((await connection.ReadRequestAsync()).Head.Split("\r\n")[0]);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        // Kestrel frames the body by its last coding, chunked; the gzip before it would reach the upstream undone.
        var response = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"POST {path} HTTP/1.1\r\nHost: sidecar\r\nTransfer-Encoding: {codings}\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        var chunked = await RawHttp.ExchangeAsync(
            sidecar.ProxyAddress,
            $"POST {path} HTTP/1.1\r\nHost: sidecar\r\nIdempotency-Key: k\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

        Assert.Equal(501, response.Status);
        Assert.Contains("application/problem+json", response.Text, StringComparison.Ordinal);
        Assert.Contains("transfer_coding_not_supported", response.Body, StringComparison.Ordinal);
        Assert.Equal(200, chunked.Status);
        Assert.Equal($"POST {path} HTTP/1.1", Assert.Single(requestLines));
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Proxy_PathWithDotSegments_ForwardsThePathThatWasRouted()
    {
        var requestLines = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            requestLines.Enqueue((await connection.ReadRequestAsync()).Head.Split("\r\n")[0]);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));

        // Routing saw "/n/b" (Kestrel removes dot segments): the upstream must get that path, not the raw one that
        // could resolve elsewhere on its side.
        var response = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, "GET /p/../n/a/%2E%2E/b HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");

        Assert.Equal(200, response.Status);
        Assert.Equal("GET /n/b HTTP/1.1", Assert.Single(requestLines));
    }
}
