using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds one entry of <c>clusters</c>: destinations, load balancing, protocol, <c>health</c> and <c>circuit_breaker</c>.</summary>
internal sealed class ClusterBinder
{
    private static readonly string[] ClusterKeys = ["destinations", "load_balancing", "protocol", "health", "circuit_breaker"];
    private static readonly string[] HealthKeys = ["passive", "reactivation_period", "active"];
    private static readonly string[] ActiveHealthKeys = ["interval", "timeout", "path"];
    private static readonly string[] CircuitBreakerKeys = ["failure_ratio", "minimum_requests", "window", "break_duration"];

    private readonly ConfigReader _reader;

    public ClusterBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    public ClusterOptions? BindCluster(string name, YamlNode node)
    {
        var map = _reader.ReadMapping(node, ConfigReader.Child("clusters", name), ClusterKeys);
        if (map is null)
        {
            return null;
        }

        var destinations = new List<string>();
        if (_reader.Require(map, "destinations") && map.TryGet("destinations", out var destinationsNode))
        {
            var items = _reader.ReadSequence(destinationsNode, map.PathOf("destinations"));
            if (items is { Count: 0 })
            {
                _reader.Error(destinationsNode, map.PathOf("destinations"), "at least one destination is required");
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
            "load_balancing",
            ConfigDefaults.LoadBalancing,
            (YamlNode n, string p, out string v) => _reader.TryReadEnum(n, p, "load-balancing policy", ConfigSpellings.LoadBalancingPolicies, out v));

        var protocol = _reader.Optional(
            map,
            "protocol",
            UpstreamProtocol.Auto,
            (YamlNode n, string p, out UpstreamProtocol v) => _reader.TryReadEnum(n, p, "protocol", ConfigSpellings.Protocols, out v));

        var health = new HealthOptions();
        if (map.TryGet("health", out var healthNode) && _reader.ReadMapping(healthNode, map.PathOf("health"), HealthKeys) is { } healthMap)
        {
            health = BindHealth(healthMap);
        }

        CircuitBreakerOptions? breaker = null;
        if (map.TryGet("circuit_breaker", out var breakerNode)
            && _reader.ReadMapping(breakerNode, map.PathOf("circuit_breaker"), CircuitBreakerKeys) is { } breakerMap)
        {
            var defaults = new CircuitBreakerOptions();
            breaker = new CircuitBreakerOptions
            {
                FailureRatio = _reader.Double(breakerMap, "failure_ratio", defaults.FailureRatio, 0, 1, minExclusive: true),
                MinimumRequests = _reader.Int(breakerMap, "minimum_requests", defaults.MinimumRequests, min: 1),
                Window = _reader.Duration(breakerMap, "window", defaults.Window, ConfigReader.MaxDuration),
                BreakDuration = _reader.Duration(breakerMap, "break_duration", defaults.BreakDuration, ConfigReader.MaxDuration),
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
        };
    }

    private HealthOptions BindHealth(ConfigMapping map)
    {
        var defaults = new HealthOptions();
        ActiveHealthOptions? active = null;
        if (map.TryGet("active", out var activeNode) && _reader.ReadMapping(activeNode, map.PathOf("active"), ActiveHealthKeys) is { } activeMap)
        {
            var activeDefaults = new ActiveHealthOptions();
            var probePath = _reader.String(activeMap, "path") ?? activeDefaults.Path;
            if (!probePath.StartsWith('/'))
            {
                activeMap.TryGet("path", out var pathNode);
                _reader.Error(pathNode!, activeMap.PathOf("path"), $"must start with '/', got '{probePath}'");
            }

            active = new ActiveHealthOptions
            {
                Interval = _reader.Duration(activeMap, "interval", activeDefaults.Interval, ConfigReader.MaxDuration),
                Timeout = _reader.Duration(activeMap, "timeout", activeDefaults.Timeout, ConfigReader.MaxDuration),
                Path = probePath,
            };
        }

        return new HealthOptions
        {
            Passive = _reader.Bool(map, "passive", defaults.Passive),
            ReactivationPeriod = _reader.Duration(map, "reactivation_period", defaults.ReactivationPeriod, ConfigReader.MaxDuration),
            Active = active,
        };
    }
}
