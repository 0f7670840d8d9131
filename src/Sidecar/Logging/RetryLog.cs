using System.Collections.Concurrent;
using Sidecar.Configuration;
using Sidecar.Circuits;

namespace Sidecar.Logging;

/// <summary>
/// Retry activity as an operator reads it at the default level: one summary line per route and interval when
/// something happened, and a line when a cluster's state changes (<see cref="ClusterLogState"/>). Per-retry and
/// per-request detail is Debug, in the retry middleware. Counters are resolved per route when a config snapshot is
/// built (<see cref="ForRoute"/>), so the request path never looks anything up; they outlive reloads, so a reload
/// does not lose an interval's counts.
/// </summary>
internal sealed class RetryLog : ILogSummarySource
{
    private readonly ConcurrentDictionary<(string Route, string Cluster), RouteLogCounters> _routes = new();
    private readonly ConcurrentDictionary<string, ClusterLogState> _clusters = new(StringComparer.Ordinal);
    private readonly ILogger<RetryLog> _logger;
    private readonly CircuitBreakerRegistry _breakers;
    private readonly TimeProvider _timeProvider;
    private readonly int _maxRouteSummaries;

    public RetryLog(ILogger<RetryLog> logger, CircuitBreakerRegistry breakers, TimeProvider timeProvider, int maxRouteSummaries = LogConstants.MaxRouteSummaries)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRouteSummaries);
        _logger = logger;
        _breakers = breakers;
        _timeProvider = timeProvider;
        _maxRouteSummaries = maxRouteSummaries;
    }

    /// <summary>The counters of a configured route (names from the config, never from a request).</summary>
    public RouteLogCounters ForRoute(string route, string cluster)
    {
        var counters = _routes.GetOrAdd((route, cluster), static (key, self) => new RouteLogCounters(key.Route, self.ForCluster(key.Cluster)), this);
        counters.Retired = false;
        counters.Cluster.Retired = false;
        return counters;
    }

    public ClusterLogState ForCluster(string cluster) =>
        _clusters.GetOrAdd(cluster, static (name, self) => new ClusterLogState(name, self._logger, self._timeProvider), this);

    /// <summary>After a reload: routes and clusters <paramref name="config"/> no longer has are summarized once more, then dropped.</summary>
    public void Retain(SidecarConfig config)
    {
        var routes = new HashSet<(string, string)>();
        foreach (var route in config.Routes)
        {
            routes.Add((route.Name, route.Cluster));
        }

        foreach (var (key, counters) in _routes)
        {
            counters.Retired = !routes.Contains(key);
        }

        foreach (var (name, cluster) in _clusters)
        {
            cluster.Retired = !config.Clusters.ContainsKey(name);
        }
    }

    /// <summary>
    /// One line per route that did something in <paramref name="interval"/>, busiest first, at most
    /// <c>maxRouteSummaries</c> of them plus one line for the rest; a line is a warning when requests failed. Then the
    /// end of cluster states that are over.
    /// </summary>
    public void Summarize(TimeSpan interval)
    {
        List<RouteLogSummary>? summaries = null;
        foreach (var (key, counters) in _routes)
        {
            if (counters.Collect(interval) is { } summary)
            {
                (summaries ??= []).Add(summary);
            }

            if (counters.Retired)
            {
                _routes.TryRemove(new KeyValuePair<(string, string), RouteLogCounters>(key, counters));
            }
        }

        if (summaries is not null)
        {
            Write(summaries, Math.Round(interval.TotalSeconds, 1));
        }

        foreach (var (name, cluster) in _clusters)
        {
            if (cluster.Summarize(_breakers.Find(name)) && cluster.Retired)
            {
                _clusters.TryRemove(new KeyValuePair<string, ClusterLogState>(name, cluster));
            }
        }
    }

    private void Write(List<RouteLogSummary> summaries, double seconds)
    {
        summaries.Sort(static (a, b) => b.Events != a.Events ? b.Events.CompareTo(a.Events) : string.CompareOrdinal(a.Route, b.Route));
        var named = Math.Min(summaries.Count, _maxRouteSummaries);
        for (var i = 0; i < named; i++)
        {
            var s = summaries[i];
            RetryLogMessages.RouteSummary(_logger, Level(s.Failed), s.Route, s.Cluster, seconds, s.Retries, s.RetryReasons, s.Exhausted, s.NoResponse, s.BudgetRefused, s.Skipped, s.SkipReasons);
        }

        if (summaries.Count == named)
        {
            return;
        }

        long retries = 0, exhausted = 0, noResponse = 0, budgetRefused = 0, skipped = 0;
        for (var i = named; i < summaries.Count; i++)
        {
            var s = summaries[i];
            retries += s.Retries;
            exhausted += s.Exhausted;
            noResponse += s.NoResponse;
            budgetRefused += s.BudgetRefused;
            skipped += s.Skipped;
        }

        RetryLogMessages.OtherRoutesSummary(_logger, Level(exhausted + noResponse), summaries.Count - named, seconds, retries, exhausted, noResponse, budgetRefused, skipped);
    }

    // Requests that failed despite retrying make the line a warning, so an operator running at Warning still sees them
    // (once per interval, not once per request).
    private static LogLevel Level(long failed) => failed > 0 ? LogLevel.Warning : LogLevel.Information;
}
