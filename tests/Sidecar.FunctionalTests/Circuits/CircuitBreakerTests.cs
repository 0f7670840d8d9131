using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Circuits;

public sealed class CircuitBreakerTests
{
    [Fact]
    public async Task CircuitBreaker_FailingDestination_IsTakenOutAndOthersServe()
    {
        using var broken = ScriptedUpstream.Status(500, "broken");
        using var healthy = ScriptedUpstream.Status(200, "healthy");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app:
                destinations: [{{broken.Url}}, {{healthy.Url}}]
                load_balancing: RoundRobin
                circuit_breaker: { failure_ratio: 0.5, minimum_requests: 4, window: 10s, break_duration: 30s }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
            """);

        for (var i = 0; i < 40; i++)
        {
            using var _ = await sidecar.Proxy.GetAsync("/x");
        }

        // Round robin sends every other request to the broken one until its circuit opens after 4 of them.
        Assert.InRange(broken.Count, 4, 6);
        Assert.InRange(healthy.Count, 34, 36);
        Assert.True(sidecar.Logs.Contains("Circuit opened for cluster app"));
    }

    [Fact]
    public async Task CircuitBreaker_EveryDestinationOpen_FailsFastWith503ThenProbes()
    {
        using var upstream = ScriptedUpstream.Status(503, "x");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app:
                destinations: [{{upstream.Url}}]
                circuit_breaker: { failure_ratio: 0.5, minimum_requests: 3, window: 10s, break_duration: 500ms }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
            """);

        for (var i = 0; i < 3; i++)
        {
            using var upstreamAnswer = await sidecar.Proxy.GetAsync("/x");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, upstreamAnswer.StatusCode);
        }

        using (var fastFail = await sidecar.Proxy.GetAsync("/x"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fastFail.StatusCode);
            Assert.Equal("application/problem+json", fastFail.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(await fastFail.Content.ReadAsStringAsync());
            Assert.Equal("circuit_open", problem.RootElement.GetProperty("reason").GetString());
        }

        Assert.Equal(3, upstream.Count);

        // The upstream recovers; once the break has passed a probe goes through and closes the circuit.
        upstream.Replace(Response.Create().WithBody("x"));
        var status = await Eventually.ReturnsAsync(
            async () => (await sidecar.Proxy.GetAsync("/x")).StatusCode,
            s => s == HttpStatusCode.OK,
            TimeSpan.FromSeconds(5),
            "a successful probe after the break");
        Assert.Equal(HttpStatusCode.OK, status);
        using var after = await sidecar.Proxy.GetAsync("/x");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
