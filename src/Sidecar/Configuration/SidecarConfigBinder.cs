using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Binds the YAML representation model of <c>sidecar.yaml</c> into a <see cref="SidecarConfig"/> and validates it,
/// recording every problem through a <see cref="ConfigReader"/>. Binding goes on after an error so that one run
/// reports all of them; the caller discards the snapshot when any error was recorded.
/// </summary>
/// <remarks>
/// Flow of <see cref="Bind"/>:
/// 1. check the root keys;
/// 2. bind <c>limits</c>, <c>listen</c>, <c>telemetry</c> and <c>logs</c>;
/// 3. bind each cluster and policy (each checks its own values, e.g. <c>backoff.max</c> ≥ <c>backoff.base</c>);
/// 4. bind the routes and check their cluster and policy names against the declared ones;
/// 5. cross-check values that span sections (<c>buffer_limit</c> ≤ <c>limits.max_buffered_bytes</c>).
/// </remarks>
internal sealed class SidecarConfigBinder
{
    private readonly ConfigReader _reader;
    private readonly ListenBinder _listen;
    private readonly LimitsBinder _limits;
    private readonly TelemetryBinder _telemetry;
    private readonly LogsBinder _logs;
    private readonly ClusterBinder _cluster;
    private readonly PolicyBinder _policy;
    private readonly RouteBinder _route;

    /// <param name="reader">Where values are read from and errors recorded.</param>
    /// <param name="memory">The memory that limits absent from the file are derived from.</param>
    public SidecarConfigBinder(ConfigReader reader, MemoryBudget memory)
    {
        _reader = reader;
        var http = new HttpValueBinder(reader);
        var tls = new TlsBinder(reader, DateTimeOffset.UtcNow);
        _listen = new ListenBinder(reader, tls);
        _limits = new LimitsBinder(reader, memory);
        _telemetry = new TelemetryBinder(reader);
        _logs = new LogsBinder(reader);
        _cluster = new ClusterBinder(reader, tls);
        _policy = new PolicyBinder(reader, http);
        _route = new RouteBinder(reader, http);
    }

    /// <summary>Binds <paramref name="root"/> (<c>null</c> for an empty file); the result is only meaningful when no error was recorded.</summary>
    public SidecarConfig? Bind(YamlNode? root, string sourcePath)
    {
        if (root is null)
        {
            var start = new Mark(0, 1, 1);
            _reader.Error(start, SidecarConfigKeys.Clusters, "missing required key 'clusters' (the file is empty)");
            _reader.Error(start, SidecarConfigKeys.Routes, "missing required key 'routes' (the file is empty)");
            return null;
        }

        var map = _reader.ReadMapping(root, string.Empty, SidecarConfigKeys.All);
        if (map is null)
        {
            return null;
        }

        var limits = map.TryGet(SidecarConfigKeys.Limits, out var limitsNode) ? _limits.Bind(limitsNode, map.PathOf(SidecarConfigKeys.Limits)) : _limits.Derived();
        var listen = map.TryGet(SidecarConfigKeys.Listen, out var listenNode) ? _listen.Bind(listenNode, map.PathOf(SidecarConfigKeys.Listen)) : new ListenOptions();
        var telemetry = map.TryGet(SidecarConfigKeys.Telemetry, out var telemetryNode) ? _telemetry.Bind(telemetryNode, map.PathOf(SidecarConfigKeys.Telemetry)) : new TelemetryOptions();
        var logs = map.TryGet(SidecarConfigKeys.Logs, out var logsNode) ? _logs.Bind(logsNode, map.PathOf(SidecarConfigKeys.Logs)) : new LogsOptions();

        var clusters = new OrderedDictionary<string, ClusterOptions>(StringComparer.Ordinal);
        var clusterNames = new List<string>();
        if (_reader.Require(map, SidecarConfigKeys.Clusters) && map.TryGet(SidecarConfigKeys.Clusters, out var clustersNode))
        {
            var entries = _reader.ReadNamedMapping(clustersNode, SidecarConfigKeys.Clusters, "cluster");
            if (entries is { Count: 0 })
            {
                _reader.Error(clustersNode, SidecarConfigKeys.Clusters, "at least one cluster is required");
            }

            foreach (var (key, value) in entries ?? [])
            {
                clusterNames.Add(key.Value!);
                if (_cluster.Bind(key.Value!, value) is { } cluster)
                {
                    clusters.Add(cluster.Name, cluster);
                }
            }
        }

        var policies = new OrderedDictionary<string, RetryPolicyOptions>(StringComparer.Ordinal);
        var policyNames = new List<string>();
        if (map.TryGet(SidecarConfigKeys.Policies, out var policiesNode))
        {
            foreach (var (key, value) in _reader.ReadNamedMapping(policiesNode, SidecarConfigKeys.Policies, "policy") ?? [])
            {
                policyNames.Add(key.Value!);
                if (_policy.Bind(key, value, limits) is { } policy)
                {
                    policies.Add(policy.Name, policy);
                }
            }
        }

        var routes = new List<RouteOptions>();
        if (_reader.Require(map, SidecarConfigKeys.Routes) && map.TryGet(SidecarConfigKeys.Routes, out var routesNode))
        {
            var items = _reader.ReadSequence(routesNode, SidecarConfigKeys.Routes);
            if (items is { Count: 0 })
            {
                _reader.Error(routesNode, SidecarConfigKeys.Routes, "at least one route is required");
            }

            var firstLines = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (node, path) in items ?? [])
            {
                if (_route.Bind(node, path, clusterNames, policyNames, firstLines) is { } route)
                {
                    routes.Add(route);
                }
            }
        }

        return new SidecarConfig
        {
            SourcePath = sourcePath,
            Listen = listen,
            Clusters = clusters,
            Policies = policies,
            Routes = routes,
            Limits = limits,
            Telemetry = telemetry,
            Logs = logs,
        };
    }
}
