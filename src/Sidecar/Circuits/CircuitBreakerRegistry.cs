using System.Collections.Concurrent;
using Sidecar.Configuration;

namespace Sidecar.Circuits;

/// <summary>
/// One <see cref="ClusterCircuitBreaker"/> per cluster that declares <c>circuit_breaker</c>. A reload that keeps the
/// same options keeps the breaker and its state; changed options start a fresh one.
/// </summary>
internal sealed class CircuitBreakerRegistry
{
    private readonly ConcurrentDictionary<string, ClusterCircuitBreaker> _breakers = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    public CircuitBreakerRegistry(TimeProvider timeProvider) => _timeProvider = timeProvider;

    public ClusterCircuitBreaker? Get(ClusterOptions cluster)
    {
        if (cluster.CircuitBreaker is not { } options)
        {
            _breakers.TryRemove(cluster.Name, out _);
            return null;
        }

        return _breakers.AddOrUpdate(
            cluster.Name,
            static (name, state) => new ClusterCircuitBreaker(name, state.options, state.time),
            static (name, existing, state) => existing.Options == state.options ? existing : new ClusterCircuitBreaker(name, state.options, state.time),
            (options, time: _timeProvider));
    }

    /// <summary>The cluster's breaker as the newest config left it; <c>null</c> when it has none.</summary>
    public ClusterCircuitBreaker? Find(string clusterName) => _breakers.GetValueOrDefault(clusterName);
}
