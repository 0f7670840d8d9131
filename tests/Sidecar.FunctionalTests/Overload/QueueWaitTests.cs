using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Overload;

/// <summary>
/// A request waiting for a slot at <c>max_concurrent_requests</c> is answered 503 at its bound, its deadline or
/// <c>limits.max_queue_wait</c>, while the request holding the slot is still in flight: it never waits until its caller
/// gives up. Real Sidecar, a real upstream that holds the first request until the test lets it go.
/// A gRPC caller's <c>grpc-timeout</c> is a deadline on any route, and its answer is RESOURCE_EXHAUSTED.
/// </summary>
public sealed class QueueWaitTests
{
    private static string Config(string destination, string maxQueueWait) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          timed:
            max_attempts: 2
            retry_on: { status: [503] }
            timeout: 300ms
        routes:
          - { name: timed, match: { path: "/timed" }, cluster: app, policy: timed }
          - { name: plain, match: { path: "/{**rest}" }, cluster: app }
        limits:
          max_concurrent_requests: 1
          max_queue_wait: {{maxQueueWait}}
        """;

    [Fact]
    public async Task WaitForSlot_NoDeadline_503AtMaxQueueWaitWhileTheSlotIsStillHeld() =>
        await AssertAnsweredAtBoundAsync(maxQueueWait: "300ms", path: "/plain", route: "plain");

    [Fact]
    public async Task WaitForSlot_PolicyTimeout_503AtTheDeadlineNotAtTheLongerMaxQueueWait() =>
        await AssertAnsweredAtBoundAsync(maxQueueWait: "1h", path: "/timed", route: "timed");

    [Fact]
    public async Task WaitForSlot_GrpcTimeoutOnARouteWithoutPolicy_ResourceExhaustedAtTheCallersDeadline()
    {
        await using var upstream = await HeldUpstream.StartAsync();
        await using var sidecar = await RunningSidecar.StartAsync(
            "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n  proxy_protocol: h2c\n" + Config(upstream.Url, "1h"));
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = sidecar.ProxyAddress };

        var holder = client.SendAsync(GrpcCall(grpcTimeout: null));
        await upstream.Arrived;
        var clock = Stopwatch.StartNew();
        using (var response = await client.SendAsync(GrpcCall(grpcTimeout: "300m")))
        {
            clock.Stop();
            Assert.False(holder.IsCompleted);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {clock.Elapsed}, before its 300 ms deadline");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/grpc", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("8", Assert.Single(response.Headers.GetValues("grpc-status")));
            Assert.Contains("concurrent requests", Uri.UnescapeDataString(Assert.Single(response.Headers.GetValues("grpc-message"))), StringComparison.Ordinal);
        }

        upstream.Release();
        using (var response = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        sidecar.Logs.AssertNoBugs();
    }

    private static HttpRequestMessage GrpcCall(string? grpcTimeout)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/greet.Greeter/SayHello")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent([0, 0, 0, 0, 0]),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (grpcTimeout is not null)
        {
            request.Headers.TryAddWithoutValidation("grpc-timeout", grpcTimeout);
        }

        return request;
    }

    private static async Task AssertAnsweredAtBoundAsync(string maxQueueWait, string path, string route)
    {
        await using var upstream = await HeldUpstream.StartAsync("/slow");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, maxQueueWait));

        var holder = sidecar.Proxy.GetAsync("/slow");
        await upstream.Arrived;
        var clock = Stopwatch.StartNew();
        using (var response = await sidecar.Proxy.GetAsync(path))
        {
            clock.Stop();
            // Answered while the slot is still held: it did not wait for it, and not for less than its bound either.
            Assert.False(holder.IsCompleted);
            Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(290), $"answered after {clock.Elapsed}, before its 300 ms bound");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("overloaded", problem.RootElement.GetProperty("reason").GetString());
            Assert.Equal(route, problem.RootElement.GetProperty("route").GetString());
        }

        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_overload_shed_total", "action=request_queued"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_overload_shed_total", "action=concurrency_limit"));

        upstream.Release();
        using (var response = await holder)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        sidecar.Logs.AssertNoBugs();
    }
}
