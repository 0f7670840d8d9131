using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Admin;

/// <summary>The admin port of the real Sidecar: <c>/healthz</c>, <c>/readyz</c>, <c>/config</c>, and its separation from the proxy port.</summary>
public sealed class AdminEndpointTests
{
    private static string Config(string destination, string extra = "") => $$"""
        clusters:
          app: { destinations: ["{{destination}}"] }
        policies:
          p: {}
        routes:
          - name: api
            match: { path: "/api/{**rest}" }
            cluster: app
            policy: p
        {{extra}}
        """;

    [Fact]
    public async Task Healthz_Running_Returns200()
    {
        await using var sidecar = await RunningSidecar.StartAsync(Config("http://127.0.0.1:1"));

        using var response = await sidecar.Admin.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok\n", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Readyz_ListeningThenDraining_200Then503Draining()
    {
        await using var sidecar = await RunningSidecar.StartAsync(Config("http://127.0.0.1:1", "limits: { drain_delay: 2s, drain_timeout: 5s }"));
        using (var ready = await sidecar.Admin.GetAsync("/readyz"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());
        }

        var drain = sidecar.Host.DrainAndStopAsync();
        try
        {
            // Within drain_delay the admin port still answers: unready, yet alive.
            using var draining = await sidecar.Admin.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
            Assert.Equal("draining\n", await draining.Content.ReadAsStringAsync());
            using var healthz = await sidecar.Admin.GetAsync("/healthz");
            Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        }
        finally
        {
            await drain.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }

    [Fact]
    public async Task Config_CredentialsInDestination_RedactedWithDefaultsFilledIn()
    {
        await using var sidecar = await RunningSidecar.StartAsync(Config("http://user:secret@127.0.0.1:1/base"));

        using var response = await sidecar.Admin.GetAsync("/config");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("secret", body, StringComparison.Ordinal);
        Assert.DoesNotContain("user", body, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        var destination = root.GetProperty("clusters").GetProperty("app").GetProperty("destinations")[0].GetString();
        Assert.Equal("http://REDACTED@127.0.0.1:1/base", destination);

        // `p: {}` in the file: every default of full-reference.yaml filled in.
        var policy = root.GetProperty("policies").GetProperty("p");
        Assert.Equal(3, policy.GetProperty("max_attempts").GetInt32());
        Assert.Equal("exponential", policy.GetProperty("backoff").GetProperty("algorithm").GetString());
        Assert.Equal("full", policy.GetProperty("backoff").GetProperty("jitter").GetString());
        Assert.Equal(["429", "503"], policy.GetProperty("retry_on").GetProperty("status").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal("64KiB", policy.GetProperty("buffer_limit").GetString());
        Assert.True(policy.GetProperty("budget").GetProperty("enabled").GetBoolean());
        Assert.Equal(0.2, policy.GetProperty("budget").GetProperty("ratio").GetDouble());
        Assert.Equal("PowerOfTwoChoices", root.GetProperty("clusters").GetProperty("app").GetProperty("load_balancing").GetString());
        Assert.Equal("api", root.GetProperty("routes")[0].GetProperty("name").GetString());
        Assert.Equal(1000, root.GetProperty("limits").GetProperty("max_waiting_retries").GetInt32());
        Assert.False(root.GetProperty("telemetry").GetProperty("dotnet_metrics").GetBoolean());
    }

    [Fact]
    public async Task Metrics_OnProxyPortWithoutMatchingRoute_Is404ProblemNotMetrics()
    {
        await using var sidecar = await RunningSidecar.StartAsync(Config("http://127.0.0.1:1"));
        Assert.NotEqual(sidecar.ProxyAddress.Port, sidecar.Admin.BaseAddress!.Port);

        using var response = await sidecar.Proxy.GetAsync("/metrics");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("sidecar_", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_OnProxyPortWithCatchAllRoute_IsProxiedToUpstream()
    {
        using var upstream = ScriptedUpstream.Status(200, "upstream metrics");
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: ["{{upstream.Url}}"] }
            routes:
              - name: all
                cluster: app
            """);

        var body = await sidecar.Proxy.GetStringAsync("/metrics");

        Assert.Equal("upstream metrics", body);
        Assert.Equal("/metrics", Assert.Single(upstream.Snapshot()).PathAndQuery);
        Assert.Contains("sidecar_requests_total", await sidecar.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsListener_Set_ServesMetricsAndProbesButNotConfig_AdminStillServesConfig()
    {
        await using var sidecar = await RunningSidecar.StartAsync(
            "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n  metrics: http://127.0.0.1:0\n" + Config("http://127.0.0.1:1"));
        var metricsAddress = Assert.IsType<Uri>(sidecar.Host.MetricsAddress);
        Assert.NotEqual(sidecar.Admin.BaseAddress!.Port, metricsAddress.Port);
        using var metricsPort = new HttpClient { BaseAddress = metricsAddress, Timeout = TimeSpan.FromSeconds(10) };

        using var metrics = await metricsPort.GetAsync("/metrics");
        using var ready = await metricsPort.GetAsync("/readyz");
        using var healthz = await metricsPort.GetAsync("/healthz");
        using var configOnMetrics = await metricsPort.GetAsync("/config");
        using var configOnAdmin = await sidecar.Admin.GetAsync("/config");

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("sidecar_inflight_requests", await metrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, healthz.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, configOnMetrics.StatusCode);
        Assert.Equal(HttpStatusCode.OK, configOnAdmin.StatusCode);
        using var config = JsonDocument.Parse(await configOnAdmin.Content.ReadAsStringAsync());
        Assert.Equal("http://127.0.0.1:0", config.RootElement.GetProperty("listen").GetProperty("metrics").GetString());
        Assert.Contains("sidecar_inflight_requests", await sidecar.Admin.GetStringAsync("/metrics"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsListener_Draining_MetricsPortReadyzSays503()
    {
        await using var sidecar = await RunningSidecar.StartAsync(
            "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n  metrics: http://127.0.0.1:0\n"
            + Config("http://127.0.0.1:1", "limits: { drain_delay: 2s, drain_timeout: 5s }"));
        using var metricsPort = new HttpClient { BaseAddress = sidecar.Host.MetricsAddress, Timeout = TimeSpan.FromSeconds(10) };

        var drain = sidecar.Host.DrainAndStopAsync();
        try
        {
            // The kubelet probes the metrics port: it must see the drain there too.
            using var draining = await metricsPort.GetAsync("/readyz");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, draining.StatusCode);
            Assert.Equal("draining\n", await draining.Content.ReadAsStringAsync());
        }
        finally
        {
            await drain.WaitAsync(TimeSpan.FromSeconds(20));
        }
    }
}
