using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Grpc;

/// <summary>
/// gRPC upstreams that misbehave on a route with a policy: a stream reset after the response began, and a
/// <c>grpc-status</c> written with spaces around it. The caller must always end with a status it can read.
/// </summary>
public sealed class GrpcUpstreamFaultTests
{
    private static DateTime CallerDeadline => DateTime.UtcNow.AddSeconds(20);

    private static string Config(string upstream) => $$"""
        listen:
          proxy: http://127.0.0.1:0
          admin: http://127.0.0.1:0
          proxy_protocol: h2c
        clusters:
          app: { destinations: [{{upstream}}], protocol: http2 }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { grpc: [unavailable] }
        routes:
          - name: grpc
            match: { path: "/sidecar.test.Echo/{**rest}" }
            cluster: app
            policy: p
        """;

    [Fact]
    public async Task ServerStream_UpstreamResetsAfterHeaders_CallerGetsUnavailableFromSidecar()
    {
        await using var upstream = await GrpcUpstream.StartAsync(async (_, context) =>
        {
            // Headers go out, then the stream is reset (RST_STREAM) before any message.
            var http = context.GetHttpContext();
            await context.WriteResponseHeadersAsync([]);
            await http.Response.Body.FlushAsync();
            http.Abort();
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.ServerStream(new EchoRequest { Text = "s", Count = 3 }, deadline: CallerDeadline);
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in call.ResponseStream.ReadAllAsync())
            {
            }
        });

        // Before: YARP's bare HTTP 502 with no grpc-status, which the client can only guess at ("Bad gRPC response.
        // HTTP status code: 502"). Now Sidecar's own UNAVAILABLE, trailers-only, as for any attempt without a response.
        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal("No response from the upstream", error.Status.Detail);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task ServerStream_UpstreamResetsAfterAMessageReachedTheCaller_CallerSeesAnErrorNotACompleteStream()
    {
        // The upstream resets only once the caller holds the first message: the caller's stream has begun, so the
        // reset must reach it as an error, never as the end of a complete stream.
        var received = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await GrpcUpstream.StartAsync(async (_, context) =>
        {
            var http = context.GetHttpContext();
            await context.WriteResponseHeadersAsync([]);
            var message = new EchoReply { Text = "partial" }.ToByteArray();
            var frame = new byte[5 + message.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
            message.CopyTo(frame, 5);
            await http.Response.Body.WriteAsync(frame);
            await http.Response.Body.FlushAsync();
            await received.Task;
            http.Abort();
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var client = new GrpcClient(sidecar.ProxyAddress);

        using var call = client.Echo.ServerStream(new EchoRequest { Text = "s", Count = 3 }, deadline: CallerDeadline);
        var messages = new List<string>();
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var reply in call.ResponseStream.ReadAllAsync())
            {
                messages.Add(reply.Text);
                received.TrySetResult();
            }
        });

        Assert.Equal(["partial"], messages);
        Assert.NotEqual(StatusCode.OK, error.StatusCode);
        sidecar.Logs.AssertNoBugs();
    }

    [Fact]
    public async Task Unary_GrpcStatusWithSpaces_RetriedAndForwardedTrimmed()
    {
        await using var upstream = await TestUpstream.StartAsync(
            (context, _) =>
            {
                // Trailers-only UNAVAILABLE, its value padded: gRPC's grammar is digits only, so strict clients refuse it.
                context.Response.ContentType = "application/grpc";
                context.Response.Headers["grpc-status"] = "14 ";
                context.Response.Headers["grpc-message"] = "busy";
                return Task.CompletedTask;
            },
            http2Only: true);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url));
        using var caller = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(sidecar.ProxyAddress, "/sidecar.test.Echo/Unary"))
        {
            Content = new ByteArrayContent(new byte[5]),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TE.ParseAdd("trailers");

        using var response = await caller.SendAsync(request);

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(3, upstream.Count);
        Assert.Equal("3", response.Headers.GetValues("x-sidecar-attempts").Single());
        // Before: "14 ", passed on as the upstream wrote it.
        Assert.Equal("14", response.Headers.GetValues("grpc-status").Single());
        Assert.Equal("busy", response.Headers.GetValues("grpc-message").Single());
        sidecar.Logs.AssertNoBugs();
    }
}
