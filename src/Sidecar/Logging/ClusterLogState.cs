using System.Collections.Concurrent;
using Sidecar.Circuits;

namespace Sidecar.Logging;

/// <summary>
/// The states of one cluster that get a log line when they change: its retry budget running out, and each
/// destination's circuit opening. A state's start is logged when it happens; its end by the first summary that finds
/// it over, so flapping costs at most one start and one end line per summary interval (per destination for circuits),
/// whatever the upstream does.
/// </summary>
internal sealed class ClusterLogState
{
    // Destinations whose circuit opening was logged and whose closing has not been yet. Keys are the cluster's
    // destination names from the config.
    private readonly ConcurrentDictionary<string, byte> _openCircuits = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private int _budgetExhausted;
    private long _budgetRefusals;
    private long _episodeRefusals;
    private long _episodeStart;

    public ClusterLogState(string clusterName, ILogger logger, TimeProvider timeProvider)
    {
        ClusterName = clusterName;
        _logger = logger;
        _timeProvider = timeProvider;
    }

    public string ClusterName { get; }

    /// <summary>Set when a reload removed the cluster: it is forgotten once no state of it is left to report.</summary>
    internal bool Retired { get; set; }

    /// <summary>True from the first refusal of the budget until a summary interval passes without one.</summary>
    public bool BudgetExhausted => Volatile.Read(ref _budgetExhausted) != 0;

    /// <summary>The budget refused a retry: the first refusal of an episode logs that the budget is exhausted.</summary>
    public void BudgetRefused()
    {
        Interlocked.Increment(ref _budgetRefusals);
        if (Volatile.Read(ref _budgetExhausted) == 0 && Interlocked.CompareExchange(ref _budgetExhausted, 1, 0) == 0)
        {
            Volatile.Write(ref _episodeStart, _timeProvider.GetTimestamp());
            RetryLogMessages.BudgetExhausted(_logger, ClusterName);
        }
    }

    /// <summary>
    /// A destination's circuit opened: logged as a warning unless its opening was already logged and no summary has
    /// found it closed since (a failed half-open probe, or a quick close and reopen), which is Debug detail.
    /// </summary>
    public void CircuitOpened(string destination, TimeSpan breakDuration)
    {
        if (_openCircuits.TryAdd(destination, 0))
        {
            RetryLogMessages.CircuitOpened(_logger, ClusterName, destination, breakDuration);
        }
        else
        {
            RetryLogMessages.CircuitOpenedAgain(_logger, ClusterName, destination, breakDuration);
        }
    }

    /// <summary>Logs the end of the states that are over; called by the summary, one thread at a time.</summary>
    /// <param name="breaker">The cluster's circuit breaker now; <c>null</c> when a reload removed it (every circuit closed).</param>
    /// <returns>True when no state of this cluster is left to report.</returns>
    public bool Summarize(ClusterCircuitBreaker? breaker)
    {
        var refusals = Interlocked.Exchange(ref _budgetRefusals, 0);
        if (BudgetExhausted)
        {
            _episodeRefusals += refusals;
            if (refusals == 0)
            {
                var duration = _timeProvider.GetElapsedTime(Volatile.Read(ref _episodeStart));
                RetryLogMessages.BudgetRecovered(_logger, ClusterName, Math.Round(duration.TotalSeconds, 1), _episodeRefusals);
                _episodeRefusals = 0;
                Volatile.Write(ref _budgetExhausted, 0);
            }
        }

        foreach (var (destination, _) in _openCircuits)
        {
            if ((breaker is null || breaker.IsClosed(destination)) && _openCircuits.TryRemove(destination, out _))
            {
                RetryLogMessages.CircuitClosed(_logger, ClusterName, destination);
            }
        }

        return !BudgetExhausted && _openCircuits.IsEmpty;
    }
}
