using System.Collections.Concurrent;

namespace Sidecar.Policies;

/// <summary>One <see cref="ClusterRetryState"/> per cluster name for the process lifetime; looked up at config build time, never per request.</summary>
internal sealed class ClusterRetryStateRegistry
{
    private readonly ConcurrentDictionary<string, ClusterRetryState> _states = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    public ClusterRetryStateRegistry(TimeProvider timeProvider) => _timeProvider = timeProvider;

    public ClusterRetryState Get(string clusterName) =>
        _states.GetOrAdd(clusterName, static (name, time) => new ClusterRetryState(name, time), _timeProvider);
}
