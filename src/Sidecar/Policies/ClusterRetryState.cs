namespace Sidecar.Policies;

/// <summary>Retry state shared by every route of one cluster; it outlives config reloads so a reload cannot reset a budget.</summary>
internal sealed class ClusterRetryState
{
    public ClusterRetryState(string clusterName, TimeProvider timeProvider)
    {
        ClusterName = clusterName;
        Budget = new RetryBudget(timeProvider);
    }

    public string ClusterName { get; }

    public RetryBudget Budget { get; }

    /// <summary>This cluster's requests waiting in backoff, held within its share of <c>limits.max_waiting_retries</c> by the retry decider.</summary>
    public ConcurrencyLimiter WaitingRetries { get; } = new(int.MaxValue);
}
