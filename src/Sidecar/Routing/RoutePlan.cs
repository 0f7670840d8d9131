using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;

namespace Sidecar.Routing;

/// <summary>What the proxy needs per request for one route, resolved once per config snapshot.</summary>
internal sealed class RoutePlan
{
    public RoutePlan(string routeName, string clusterName, RetryPlan? retry, ClusterCircuitBreaker? breaker, RouteLogCounters log, RouteInFlight inFlight)
    {
        InFlight = inFlight;
        RouteName = routeName;
        ClusterName = clusterName;
        Retry = retry;
        Breaker = breaker;
        Log = log;
    }

    public string RouteName { get; }

    public string ClusterName { get; }

    /// <summary><c>null</c> for a route without a policy: proxied once, nothing buffered.</summary>
    public RetryPlan? Retry { get; }

    /// <summary>The cluster's circuit breaker; <c>null</c> when the cluster declares none.</summary>
    public ClusterCircuitBreaker? Breaker { get; }

    /// <summary>What the route's summary log line counts (retries, refusals, failures); shared by every snapshot.</summary>
    public RouteLogCounters Log { get; }

    /// <summary>The route's requests in flight, against its share of <c>limits.max_concurrent_requests</c>; shared by every snapshot.</summary>
    public RouteInFlight InFlight { get; }

    /// <summary>The <c>policy</c> metric label.</summary>
    public string PolicyLabel => Retry?.Name ?? "none";
}
