using System.Collections.Concurrent;
using System.Collections.Frozen;
using Sidecar.Configuration;
using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;

namespace Sidecar.Routing;

/// <summary>
/// An immutable, compiled view of one <see cref="SidecarConfig"/>: route plans looked up by route id on every request.
/// Policies live here rather than in YARP endpoint metadata so a reload that only changes a policy takes effect at once.
/// </summary>
internal sealed class RouteTable
{
    private readonly FrozenDictionary<string, RoutePlan> _routes;

    private RouteTable(SidecarConfig config, FrozenDictionary<string, RoutePlan> routes)
    {
        Config = config;
        _routes = routes;
    }

    public SidecarConfig Config { get; }

    public static RouteTable Build(SidecarConfig config, ClusterRetryStateRegistry clusterStates, CircuitBreakerRegistry breakers, RetryLog log, ConcurrentDictionary<string, RouteInFlight>? inFlight = null)
    {
        inFlight ??= new(StringComparer.Ordinal);
        var plans = new Dictionary<string, RetryPlan>(StringComparer.Ordinal);
        var routes = new Dictionary<string, RoutePlan>(config.Routes.Count, StringComparer.Ordinal);
        var clusterBreakers = new Dictionary<string, ClusterCircuitBreaker?>(StringComparer.Ordinal);
        foreach (var cluster in config.Clusters.Values)
        {
            clusterBreakers[cluster.Name] = breakers.Get(cluster);
        }

        foreach (var route in config.Routes)
        {
            RetryPlan? retry = null;
            if (route.Policy is { } policyName && config.Policies.TryGetValue(policyName, out var policy))
            {
                var key = route.Cluster + "\n" + policyName;
                if (!plans.TryGetValue(key, out retry))
                {
                    retry = new RetryPlan(policy, clusterStates.Get(route.Cluster));
                    plans[key] = retry;
                }
            }

            routes[route.Name] = new RoutePlan(route.Name, route.Cluster, retry, clusterBreakers.GetValueOrDefault(route.Cluster), log.ForRoute(route.Name, route.Cluster), inFlight.GetOrAdd(route.Name, static name => new RouteInFlight(name)));
        }

        return new RouteTable(config, routes.ToFrozenDictionary(StringComparer.Ordinal));
    }

    /// <summary>The plan for a YARP route id; <c>null</c> when the route came from an older snapshot and is gone.</summary>
    public RoutePlan? Find(string routeId) => _routes.GetValueOrDefault(routeId);
}
