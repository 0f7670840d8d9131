using Sidecar.Policies;
using Sidecar.Routing;

namespace Sidecar.Retries;

/// <summary>
/// The process-wide cap on requests parked in backoff (<c>limits.max_waiting_retries</c>). Each holds a connection and
/// maybe a buffered body, so past the cap requests are still proxied but not retried. Read from the config at
/// startup; a reload does not change it.
/// No cluster may hold more than its share of the cap (<see cref="ClusterShare"/>): an upstream that parks every
/// request on a long <c>Retry-After</c> or pushback cannot stop the retries of every other cluster.
/// </summary>
internal sealed class BackoffWaitLimiter
{
    private readonly ConcurrencyLimiter _limiter;
    private readonly SidecarConfigStore _store;

    public BackoffWaitLimiter(SidecarConfigStore store)
    {
        _store = store;
        _limiter = new ConcurrencyLimiter(store.Config.Limits.MaxWaitingRetries);
    }

    /// <summary>Takes a slot for a request of <paramref name="cluster"/> if the cluster's share and the cap allow.</summary>
    public bool TryEnter(ClusterRetryState cluster)
    {
        if (!cluster.WaitingRetries.TryEnter(ClusterShare(_limiter.Limit, _store.Config.Clusters.Count)))
        {
            return false;
        }

        if (_limiter.TryEnter())
        {
            return true;
        }

        cluster.WaitingRetries.Exit();
        return false;
    }

    /// <summary>Gives back a slot taken with <see cref="TryEnter"/> for the same cluster.</summary>
    public void Exit(ClusterRetryState cluster)
    {
        _limiter.Exit();
        cluster.WaitingRetries.Exit();
    }

    /// <summary>
    /// The most slots one cluster may hold: the cap split into one equal share per cluster, but never into more than
    /// <see cref="RetryConstants.MaxWaitingRetryShares"/> (rounded up). With one cluster that is the whole cap.
    /// </summary>
    internal static int ClusterShare(int limit, int clusters)
    {
        var shares = Math.Clamp(clusters, 1, RetryConstants.MaxWaitingRetryShares);
        return (int)(((long)limit + shares - 1) / shares);
    }
}
