using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>The 502 after the last attempt got no response says what that attempt met and where, not the forwarder's enum name.</summary>
public sealed class NoResponseDetailTests
{
    [Fact]
    public async Task ConnectionRefused_Exhausted_DetailNamesTheDestinationAndTheError()
    {
        var port = FreePort.Get();
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [http://127.0.0.1:{{port}}] }
            policies:
              p:
                backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            """);

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("exhausted", problem.RootElement.GetProperty("reason").GetString());
        Assert.Equal(3, problem.RootElement.GetProperty("attempts").GetInt32());
        Assert.Equal($"could not connect to 127.0.0.1:{port}: Connection refused", problem.RootElement.GetProperty("detail").GetString());
    }
}
