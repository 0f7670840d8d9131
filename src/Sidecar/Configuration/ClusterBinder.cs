using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds one entry of <c>clusters</c>: destinations, load balancing, protocol, <c>health</c>, <c>circuit_breaker</c> and <c>tls</c>.</summary>
internal sealed class ClusterBinder
{
    private readonly ConfigReader _reader;
    private readonly TlsBinder _tls;

    public ClusterBinder(ConfigReader reader, TlsBinder tls)
    {
        _reader = reader;
        _tls = tls;
    }

    /// <summary>Binds the cluster <paramref name="name"/>; <c>null</c> when its node is not a mapping.</summary>
    public ClusterOptions? Bind(string name, YamlNode node)
    {
        var map = _reader.ReadMapping(node, ConfigReader.Child(SidecarConfigKeys.Clusters, name), ClusterKeys.All);
        if (map is null)
        {
            return null;
        }

        var destinations = new List<string>();
        if (_reader.Require(map, ClusterKeys.Destinations) && map.TryGet(ClusterKeys.Destinations, out var destinationsNode))
        {
            var items = _reader.ReadSequence(destinationsNode, map.PathOf(ClusterKeys.Destinations));
            if (items is { Count: 0 })
            {
                _reader.Error(destinationsNode, map.PathOf(ClusterKeys.Destinations), "at least one destination is required");
            }

            foreach (var (item, itemPath) in items ?? [])
            {
                if (!_reader.TryReadString(item, itemPath, out var url))
                {
                    continue;
                }

                if (UrlRules.DestinationError(url) is { } error)
                {
                    _reader.Error(item, itemPath, error);
                }
                else if (destinations.Contains(url, StringComparer.OrdinalIgnoreCase))
                {
                    _reader.Error(item, itemPath, $"duplicate destination '{UrlRedaction.Redact(url)}'");
                }
                else
                {
                    destinations.Add(url);
                }
            }
        }

        var loadBalancing = _reader.Optional(
            map,
            ClusterKeys.LoadBalancing,
            ConfigDefaults.LoadBalancing,
            (YamlNode n, string p, out string v) => _reader.TryReadEnum(n, p, "load-balancing policy", ConfigSpellings.LoadBalancingPolicies, out v));

        var protocol = _reader.Optional(
            map,
            ClusterKeys.Protocol,
            UpstreamProtocol.Auto,
            (YamlNode n, string p, out UpstreamProtocol v) => _reader.TryReadEnum(n, p, "protocol", ConfigSpellings.Protocols, out v));

        var health = new HealthOptions();
        if (map.TryGet(ClusterKeys.Health, out var healthNode) && _reader.ReadMapping(healthNode, map.PathOf(ClusterKeys.Health), ClusterKeys.HealthKeys.All) is { } healthMap)
        {
            health = BindHealth(healthMap);
        }

        CircuitBreakerOptions? breaker = null;
        if (map.TryGet(ClusterKeys.CircuitBreaker, out var breakerNode)
            && _reader.ReadMapping(breakerNode, map.PathOf(ClusterKeys.CircuitBreaker), ClusterKeys.CircuitBreakerKeys.All) is { } breakerMap)
        {
            var defaults = new CircuitBreakerOptions();
            breaker = new CircuitBreakerOptions
            {
                FailureRatio = _reader.Double(breakerMap, ClusterKeys.CircuitBreakerKeys.FailureRatio, defaults.FailureRatio, 0, 1, minExclusive: true),
                MinimumRequests = _reader.Int(breakerMap, ClusterKeys.CircuitBreakerKeys.MinimumRequests, defaults.MinimumRequests, min: 1),
                Window = _reader.Duration(breakerMap, ClusterKeys.CircuitBreakerKeys.Window, defaults.Window, ConfigReader.MaxDuration),
                BreakDuration = _reader.Duration(breakerMap, ClusterKeys.CircuitBreakerKeys.BreakDuration, defaults.BreakDuration, ConfigReader.MaxDuration),
            };
        }

        return new ClusterOptions
        {
            Name = name,
            Destinations = destinations,
            LoadBalancing = loadBalancing,
            Protocol = protocol,
            Health = health,
            CircuitBreaker = breaker,
            Tls = _tls.BindUpstream(map, destinations),
        };
    }

    private HealthOptions BindHealth(ConfigMapping map)
    {
        var defaults = new HealthOptions();
        ActiveHealthOptions? active = null;
        if (map.TryGet(ClusterKeys.HealthKeys.Active, out var activeNode) && _reader.ReadMapping(activeNode, map.PathOf(ClusterKeys.HealthKeys.Active), ClusterKeys.ActiveHealthKeys.All) is { } activeMap)
        {
            var activeDefaults = new ActiveHealthOptions();
            var probePath = _reader.String(activeMap, ClusterKeys.ActiveHealthKeys.Path) ?? activeDefaults.Path;
            if (!probePath.StartsWith('/'))
            {
                activeMap.TryGet(ClusterKeys.ActiveHealthKeys.Path, out var pathNode);
                _reader.Error(pathNode!, activeMap.PathOf(ClusterKeys.ActiveHealthKeys.Path), $"must start with '/', got '{probePath}'");
            }

            active = new ActiveHealthOptions
            {
                Interval = _reader.Duration(activeMap, ClusterKeys.ActiveHealthKeys.Interval, activeDefaults.Interval, ConfigReader.MaxDuration),
                Timeout = _reader.Duration(activeMap, ClusterKeys.ActiveHealthKeys.Timeout, activeDefaults.Timeout, ConfigReader.MaxDuration),
                Path = probePath,
            };
        }

        return new HealthOptions
        {
            Passive = _reader.Bool(map, ClusterKeys.HealthKeys.Passive, defaults.Passive),
            ReactivationPeriod = _reader.Duration(map, ClusterKeys.HealthKeys.ReactivationPeriod, defaults.ReactivationPeriod, ConfigReader.MaxDuration),
            Active = active,
        };
    }
}
