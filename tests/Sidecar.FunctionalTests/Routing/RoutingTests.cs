using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Routing;

public sealed class RoutingTests
{
    [Fact]
    public async Task Proxy_RoutesByPathMethodHostAndHeader_ToTheRightCluster()
    {
        using var orders = ScriptedUpstream.Status(200, "orders");
        using var users = ScriptedUpstream.Status(200, "users");
        using var writes = ScriptedUpstream.Status(200, "writes");
        using var beta = ScriptedUpstream.Status(200, "beta");
        using var admin = ScriptedUpstream.Status(200, "admin-host");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              orders: { destinations: [{{orders.Url}}] }
              users: { destinations: [{{users.Url}}] }
              writes: { destinations: [{{writes.Url}}] }
              beta: { destinations: [{{beta.Url}}] }
              admin: { destinations: [{{admin.Url}}] }
            routes:
              - name: beta
                match: { path: "/orders/{**rest}", headers: [{ name: x-beta, values: ["1"] }] }
                cluster: beta
              - name: admin-host
                match: { path: "/{**rest}", hosts: ["admin.example"] }
                cluster: admin
              - name: orders-write
                match: { path: "/orders/{**rest}", methods: [POST, PUT] }
                cluster: writes
              - name: orders
                match: { path: "/orders/{**rest}" }
                cluster: orders
              - name: users
                match: { path: "/users/{**rest}", methods: [GET] }
                cluster: users
            """);

        Assert.Equal("orders", await GetBody(sidecar, HttpMethod.Get, "/orders/1"));
        Assert.Equal("writes", await GetBody(sidecar, HttpMethod.Post, "/orders/1"));
        Assert.Equal("users", await GetBody(sidecar, HttpMethod.Get, "/users/7"));
        Assert.Equal("beta", await GetBody(sidecar, HttpMethod.Get, "/orders/1", ("x-beta", "1")));
        Assert.Equal("admin-host", await GetBody(sidecar, HttpMethod.Get, "/users/7", ("Host", "admin.example")));

        // DELETE /users matches no route: Sidecar answers itself, nothing is forwarded.
        using var unmatched = await sidecar.Proxy.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/users/7"));
        Assert.Equal(HttpStatusCode.NotFound, unmatched.StatusCode);
        Assert.Equal("application/problem+json", unmatched.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, users.Count);
        Assert.Equal(1, admin.Count);
        Assert.Equal("/orders/1", orders.Snapshot().Single().PathAndQuery);
    }

    [Fact]
    public async Task Proxy_SeveralDestinations_SpreadsRequestsOverAll()
    {
        using var a = ScriptedUpstream.Status(200, "a");
        using var b = ScriptedUpstream.Status(200, "b");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              pair: { destinations: [{{a.Url}}, {{b.Url}}], load_balancing: RoundRobin }
            routes:
              - name: all
                match: { path: "/{**rest}" }
                cluster: pair
            """);

        var bodies = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            bodies.Add(await GetBody(sidecar, HttpMethod.Get, "/x"));
        }

        Assert.Equal(5, a.Count);
        Assert.Equal(5, b.Count);
        Assert.Contains("a", bodies);
        Assert.Contains("b", bodies);
    }

    [Fact]
    public async Task Proxy_RouteWithoutPolicy_ForwardsOnceAndStripsControlHeaders()
    {
        using var upstream = ScriptedUpstream.Status(503, "down");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            routes:
              - name: plain
                match: { path: "/{**rest}" }
                cluster: app
            """);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("x-sidecar-max-attempts", "5");
        request.Headers.Add("x-sidecar-anything", "secret");
        using var response = await sidecar.Proxy.SendAsync(request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("down", await response.Content.ReadAsStringAsync());
        Assert.Equal("1", response.Headers.GetValues("x-sidecar-attempts").Single());
        var seen = Assert.Single(upstream.Snapshot());
        Assert.DoesNotContain(seen.Headers.Keys, k => k.StartsWith("x-sidecar-", StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<string> GetBody(RunningSidecar sidecar, HttpMethod method, string path, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path);
        foreach (var (name, value) in headers)
        {
            if (name == "Host")
            {
                request.Headers.Host = value;
            }
            else
            {
                request.Headers.Add(name, value);
            }
        }

        using var response = await sidecar.Proxy.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}
