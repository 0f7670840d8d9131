using Microsoft.Extensions.Primitives;
using Sidecar.Configuration;
using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Telemetry;
using Sidecar.Tls;
using Yarp.ReverseProxy.Configuration;

namespace Sidecar.Routing;

/// <summary>
/// Holds the current configuration snapshot and hands it to YARP. Each <see cref="Apply"/> builds a whole new
/// snapshot (route table + YARP config with its own change token) and swaps it atomically; nothing is mutated in place.
/// </summary>
internal sealed class SidecarConfigStore : IProxyConfigProvider
{
    private readonly ClusterRetryStateRegistry _clusterStates;
    private readonly CircuitBreakerRegistry _breakers;
    private readonly RetryLog _log;
    private readonly SidecarMetrics? _metrics;
    private readonly TlsRegistry? _tls;
    // One per route name ever configured (a handful): a reload keeps counting the requests a route still has running.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RouteInFlight> _inFlight = new(StringComparer.Ordinal);
    private Snapshot _current;

    public SidecarConfigStore(SidecarConfig initial, ClusterRetryStateRegistry clusterStates, CircuitBreakerRegistry breakers, RetryLog log, SidecarMetrics? metrics = null, TlsRegistry? tls = null)
    {
        _clusterStates = clusterStates;
        _breakers = breakers;
        _log = log;
        _metrics = metrics;
        _tls = tls;
        // Before YARP sees the clusters: it builds their clients from the registry's entries.
        tls?.Apply(initial);
        _current = new Snapshot(initial, RouteTable.Build(initial, clusterStates, breakers, log, _inFlight));
        PublishZeroSeries(initial);
    }

    /// <summary>The route table of the newest snapshot; read once per request.</summary>
    public RouteTable RouteTable => Volatile.Read(ref _current).Routes;

    public SidecarConfig Config => Volatile.Read(ref _current).Routes.Config;

    public IProxyConfig GetConfig() => Volatile.Read(ref _current);

    public void Apply(SidecarConfig config)
    {
        _tls?.Apply(config);
        var next = new Snapshot(config, RouteTable.Build(config, _clusterStates, _breakers, _log, _inFlight));
        var previous = Interlocked.Exchange(ref _current, next);
        previous.SignalChange();
        _log.Retain(config);
        PublishZeroSeries(config);
    }

    // Alerts on sidecar_retry_budget_exhausted_total / sidecar_retry_after_honored_total need the series to exist
    // (at 0) before the first event; routes and clusters added by a reload get theirs when it applies.
    private void PublishZeroSeries(SidecarConfig config)
    {
        if (_metrics is null)
        {
            return;
        }

        foreach (var route in config.Routes)
        {
            _metrics.RouteConfigured(route.Name);
        }

        foreach (var cluster in config.Clusters.Keys)
        {
            _metrics.ClusterConfigured(cluster);
        }
    }

    private sealed class Snapshot : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public Snapshot(SidecarConfig config, RouteTable routes)
        {
            Routes = routes;
            YarpRoutes = YarpConfigMapper.MapRoutes(config);
            YarpClusters = YarpConfigMapper.MapClusters(config);
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public RouteTable Routes { get; }

        public IReadOnlyList<RouteConfig> YarpRoutes { get; }

        public IReadOnlyList<ClusterConfig> YarpClusters { get; }

        IReadOnlyList<RouteConfig> IProxyConfig.Routes => YarpRoutes;

        IReadOnlyList<ClusterConfig> IProxyConfig.Clusters => YarpClusters;

        public IChangeToken ChangeToken { get; }

        public void SignalChange() => _changed.Cancel();
    }
}
