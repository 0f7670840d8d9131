using Sidecar.Configuration;
using Sidecar.Routing;
using YarpHeaderMode = Yarp.ReverseProxy.Configuration.HeaderMatchMode;

namespace Sidecar.Tests.Routing;

/// <summary><see cref="YarpConfigMapper"/>: what YARP is given for a Sidecar config (order, matches, destinations, health, protocol).</summary>
public sealed class YarpConfigMapperTests
{
    private const string Yaml = """
        clusters:
          app:
            destinations: ["http://a:1", "http://b:2"]
            load_balancing: RoundRobin
            health: { passive: true, reactivation_period: 30s, active: { interval: 5s, timeout: 1s, path: /ready } }
          grpc:
            destinations: ["http://g:3"]
            protocol: http2
        policies:
          p: {}
        routes:
          - name: first
            match:
              path: "/a/{**rest}"
              methods: [GET]
              hosts: [example.com]
              headers:
                - { name: x-exact, values: [v] }
                - { name: x-prefix, values: [v], mode: prefix }
                - { name: x-contains, values: [v], mode: contains }
                - { name: x-exists, mode: exists }
                - { name: x-absent, mode: not-exists }
            cluster: app
            policy: p
          - name: second
            match: { path: "/{**rest}" }
            cluster: grpc
        """;

    private static readonly SidecarConfig Config = Load();

    [Fact]
    public void MapRoutes_FileOrder_IsYarpOrder()
    {
        var routes = YarpConfigMapper.MapRoutes(Config);

        Assert.Equal(["first", "second"], routes.Select(r => r.RouteId));
        Assert.Equal([0, 1], routes.Select(r => r.Order ?? -1));
        Assert.Equal(["app", "grpc"], routes.Select(r => r.ClusterId));
    }

    [Fact]
    public void MapRoutes_Match_CarriesPathMethodsHostsAndEveryHeaderMode()
    {
        var match = YarpConfigMapper.MapRoutes(Config)[0].Match;

        Assert.Equal("/a/{**rest}", match.Path);
        Assert.Equal(["GET"], match.Methods!);
        Assert.Equal(["example.com"], match.Hosts!);
        Assert.Equal(
            [YarpHeaderMode.ExactHeader, YarpHeaderMode.HeaderPrefix, YarpHeaderMode.Contains, YarpHeaderMode.Exists, YarpHeaderMode.NotExists],
            match.Headers!.Select(h => h.Mode));
        Assert.Null(match.Headers![3].Values);
    }

    [Fact]
    public void MapRoutes_EmptyMatchLists_AreNullForYarp()
    {
        var match = YarpConfigMapper.MapRoutes(Config)[1].Match;

        Assert.Null(match.Methods);
        Assert.Null(match.Hosts);
        Assert.Null(match.Headers);
    }

    [Fact]
    public void MapRoutes_Policy_OnlyInTheRouteMetadataOfRoutesThatHaveOne()
    {
        var routes = YarpConfigMapper.MapRoutes(Config);

        Assert.Equal("p", routes[0].Metadata![YarpConfigMapper.PolicyMetadataKey]);
        Assert.Null(routes[1].Metadata);
    }

    [Fact]
    public void MapClusters_Destinations_NumberedFromD1InFileOrder()
    {
        var app = YarpConfigMapper.MapClusters(Config).Single(c => c.ClusterId == "app");

        Assert.Equal("http://a:1", app.Destinations!["d1"].Address);
        Assert.Equal("http://b:2", app.Destinations["d2"].Address);
        Assert.Equal("RoundRobin", app.LoadBalancingPolicy);
    }

    [Fact]
    public void MapClusters_Health_PassiveAndActiveChecksEnabled()
    {
        var health = YarpConfigMapper.MapClusters(Config).Single(c => c.ClusterId == "app").HealthCheck!;

        Assert.True(health.Passive!.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(30), health.Passive.ReactivationPeriod);
        Assert.True(health.Active!.Enabled);
        Assert.Equal(TimeSpan.FromSeconds(5), health.Active.Interval);
        Assert.Equal(TimeSpan.FromSeconds(1), health.Active.Timeout);
        Assert.Equal("/ready", health.Active.Path);
    }

    [Fact]
    public void MapClusters_Protocol_Http2IsExactHttp11AllowsUpgrade()
    {
        var clusters = YarpConfigMapper.MapClusters(Config);
        var grpc = clusters.Single(c => c.ClusterId == "grpc").HttpRequest!;
        var app = clusters.Single(c => c.ClusterId == "app").HttpRequest!;

        Assert.Equal(System.Net.HttpVersion.Version20, grpc.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionExact, grpc.VersionPolicy);
        Assert.Equal(System.Net.HttpVersion.Version11, app.Version);
        Assert.Equal(HttpVersionPolicy.RequestVersionOrHigher, app.VersionPolicy);
        Assert.Null(clusters.Single(c => c.ClusterId == "grpc").HealthCheck);
    }

    private static SidecarConfig Load()
    {
        var loaded = SidecarConfigLoader.Parse(Yaml, "test.yaml");
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors));
        return loaded.Config!;
    }
}
