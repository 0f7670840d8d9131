namespace Sidecar.Tests.Routing;

/// <summary><see cref="Sidecar.Routing.RouteTable"/>: one plan per route, policies compiled once per cluster and policy, shared state kept across snapshots.</summary>
public sealed class RouteTableTests : IDisposable
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
          other:
            destinations: ["http://127.0.0.1:2"]
            circuit_breaker: { failure_ratio: 0.5, minimum_requests: 5, window: 10s, break_duration: 5s }
        policies:
          p: {}
        routes:
          - { name: a, match: { path: "/a/{**rest}" }, cluster: app, policy: p }
          - { name: b, match: { path: "/b/{**rest}" }, cluster: app, policy: p }
          - { name: c, match: { path: "/c/{**rest}" }, cluster: other, policy: p }
          - { name: plain, match: { path: "/{**rest}" }, cluster: other }
        """;

    private readonly RetryHarness _harness = new(Yaml);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void Find_RouteWithPolicy_HasItsPlanAndLabels()
    {
        var route = _harness.Route("a");

        Assert.Equal("a", route.RouteName);
        Assert.Equal("app", route.ClusterName);
        Assert.Equal("p", route.PolicyLabel);
        Assert.Equal("app", route.Retry!.Cluster.ClusterName);
        Assert.Null(route.Breaker);
    }

    [Fact]
    public void Find_RouteWithoutPolicy_NoPlanAndPolicyLabelNone()
    {
        var route = _harness.Route("plain");

        Assert.Null(route.Retry);
        Assert.Equal("none", route.PolicyLabel);
        Assert.NotNull(route.Breaker);
    }

    [Fact]
    public void Find_UnknownRoute_Null()
    {
        Assert.Null(_harness.Store.RouteTable.Find("gone"));
    }

    [Fact]
    public void Build_SamePolicyAndCluster_SharesOnePlan_OtherClusterGetsItsOwn()
    {
        Assert.Same(_harness.Route("a").Retry, _harness.Route("b").Retry);
        Assert.NotSame(_harness.Route("a").Retry, _harness.Route("c").Retry);
        Assert.Same(_harness.Route("c").Breaker, _harness.Route("plain").Breaker);
    }

    [Fact]
    public void Apply_NewSnapshot_NewPlansButTheSameClusterBudgetBreakerAndLogCounters()
    {
        var before = _harness.Route("c");

        _harness.Store.Apply(_harness.Config);
        var after = _harness.Route("c");

        Assert.NotSame(before, after);
        Assert.NotSame(before.Retry, after.Retry);
        Assert.Same(before.Retry!.Cluster, after.Retry!.Cluster);
        Assert.Same(before.Breaker, after.Breaker);
        Assert.Same(before.Log, after.Log);
    }
}
