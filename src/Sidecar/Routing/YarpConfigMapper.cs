using Sidecar.Configuration;
using Yarp.ReverseProxy.Configuration;

namespace Sidecar.Routing;

/// <summary>Turns a validated <see cref="SidecarConfig"/> into YARP routes and clusters.</summary>
internal static class YarpConfigMapper
{
    /// <summary>Route metadata key carrying the policy name; transforms are only added to routes that have one.</summary>
    public const string PolicyMetadataKey = "sidecar.policy";

    /// <summary>Cluster metadata key carrying the cluster's <c>tls</c> as text (the record's printout of every field).</summary>
    public const string TlsMetadataKey = "sidecar.tls";

    public static IReadOnlyList<RouteConfig> MapRoutes(SidecarConfig config)
    {
        var routes = new List<RouteConfig>(config.Routes.Count);
        for (var i = 0; i < config.Routes.Count; i++)
        {
            var route = config.Routes[i];
            routes.Add(new RouteConfig
            {
                RouteId = route.Name,
                ClusterId = route.Cluster,
                // File order is precedence: YARP picks the lowest Order among matching routes.
                Order = i,
                Match = new RouteMatch
                {
                    Path = route.Match.Path,
                    Methods = route.Match.Methods.Count == 0 ? null : route.Match.Methods,
                    Hosts = route.Match.Hosts.Count == 0 ? null : route.Match.Hosts,
                    Headers = route.Match.Headers.Count == 0 ? null : MapHeaders(route.Match.Headers),
                },
                Metadata = route.Policy is null ? null : new Dictionary<string, string> { [PolicyMetadataKey] = route.Policy },
            });
        }

        return routes;
    }

    public static IReadOnlyList<ClusterConfig> MapClusters(SidecarConfig config)
    {
        var clusters = new List<ClusterConfig>(config.Clusters.Count);
        foreach (var cluster in config.Clusters.Values)
        {
            var destinations = new Dictionary<string, DestinationConfig>(cluster.Destinations.Count, StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < cluster.Destinations.Count; i++)
            {
                destinations[DestinationId(i)] = new DestinationConfig { Address = cluster.Destinations[i] };
            }

            clusters.Add(new ClusterConfig
            {
                ClusterId = cluster.Name,
                LoadBalancingPolicy = cluster.LoadBalancing,
                Destinations = destinations,
                HealthCheck = MapHealth(cluster.Health),
                // A changed tls is a changed cluster: YARP then builds the cluster a new client (Forwarding/UpstreamHttpClientFactory).
                Metadata = cluster.Tls is null ? null : new Dictionary<string, string> { [TlsMetadataKey] = cluster.Tls.ToString() },
                HttpRequest = cluster.Protocol == UpstreamProtocol.Http2
                    ? new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
                    {
                        // Exact 2.0: over http:// there is no ALPN, so this is h2c with prior knowledge (gRPC servers).
                        Version = System.Net.HttpVersion.Version20,
                        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                    }
                    : new Yarp.ReverseProxy.Forwarder.ForwarderRequestConfig
                    {
                        // Upstreams beside a sidecar are mostly plain-text HTTP/1.1; asking for HTTP/2 first
                        // costs a failed negotiation on every new https connection to an HTTP/1.1 server.
                        Version = System.Net.HttpVersion.Version11,
                        VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
                    },
            });
        }

        return clusters;
    }

    /// <summary>Destination ids are positional (<c>d1</c>, <c>d2</c>…) so metrics and logs stay bounded and stable.</summary>
    public static string DestinationId(int index) => "d" + (index + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static List<RouteHeader> MapHeaders(IReadOnlyList<HeaderMatchOptions> headers)
    {
        var result = new List<RouteHeader>(headers.Count);
        foreach (var header in headers)
        {
            result.Add(new RouteHeader
            {
                Name = header.Name,
                Values = header.Values.Count == 0 ? null : header.Values,
                Mode = header.Mode switch
                {
                    Sidecar.Configuration.HeaderMatchMode.Prefix => Yarp.ReverseProxy.Configuration.HeaderMatchMode.HeaderPrefix,
                    Sidecar.Configuration.HeaderMatchMode.Contains => Yarp.ReverseProxy.Configuration.HeaderMatchMode.Contains,
                    Sidecar.Configuration.HeaderMatchMode.Exists => Yarp.ReverseProxy.Configuration.HeaderMatchMode.Exists,
                    Sidecar.Configuration.HeaderMatchMode.NotExists => Yarp.ReverseProxy.Configuration.HeaderMatchMode.NotExists,
                    _ => Yarp.ReverseProxy.Configuration.HeaderMatchMode.ExactHeader,
                },
            });
        }

        return result;
    }

    private static HealthCheckConfig? MapHealth(HealthOptions health)
    {
        if (!health.Passive && health.Active is null)
        {
            return null;
        }

        return new HealthCheckConfig
        {
            Passive = health.Passive
                ? new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = "TransportFailureRate",
                    ReactivationPeriod = health.ReactivationPeriod,
                }
                : null,
            Active = health.Active is { } active
                ? new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = active.Interval,
                    Timeout = active.Timeout,
                    Path = active.Path,
                    Policy = "ConsecutiveFailures",
                }
                : null,
        };
    }
}
