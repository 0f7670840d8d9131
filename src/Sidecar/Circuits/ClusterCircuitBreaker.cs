using System.Collections.Concurrent;
using Sidecar.Configuration;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Circuits;

/// <summary>
/// The circuits of one cluster's destinations. Before each attempt it narrows the destinations YARP may choose to the
/// ones whose circuit lets a request through, so load balancing picks a healthy one; when none does, the request
/// fails fast with 503 instead of piling onto a broken upstream.
/// </summary>
internal sealed class ClusterCircuitBreaker
{
    private readonly ConcurrentDictionary<string, DestinationCircuit> _circuits = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _timeProvider;
    private int _notClosed;

    public ClusterCircuitBreaker(string clusterName, CircuitBreakerOptions options, TimeProvider timeProvider)
    {
        ClusterName = clusterName;
        Options = options;
        _timeProvider = timeProvider;
    }

    public string ClusterName { get; }

    public CircuitBreakerOptions Options { get; }

    public DestinationCircuit For(DestinationState destination) =>
        _circuits.GetOrAdd(destination.DestinationId, static (_, self) => new DestinationCircuit(self.Options, self._timeProvider), this);

    /// <summary>True when the destination's circuit is closed, or it never had one (no request went there yet).</summary>
    public bool IsClosed(string destinationId) => !_circuits.TryGetValue(destinationId, out var circuit) || circuit.IsClosed;

    /// <summary>
    /// The destinations a request may go to now. Allocates only while some circuit is not closed.
    /// <paramref name="probe"/> is the destination whose half-open probe this request holds, if any.
    /// </summary>
    public IReadOnlyList<DestinationState> Allowed(IReadOnlyList<DestinationState> candidates, out DestinationState? probe)
    {
        probe = null;
        if (Volatile.Read(ref _notClosed) == 0)
        {
            return candidates;
        }

        List<DestinationState>? allowed = null;
        for (var i = 0; i < candidates.Count; i++)
        {
            var destination = candidates[i];
            var circuit = For(destination);
            if (circuit.IsClosed)
            {
                (allowed ??= new List<DestinationState>(candidates.Count)).Add(destination);
            }
        }

        if (allowed is not null)
        {
            return allowed;
        }

        // Nothing closed: at most one half-open probe goes out, to the first destination whose break has elapsed.
        for (var i = 0; i < candidates.Count; i++)
        {
            if (For(candidates[i]).TryAllow(out var isProbe) && isProbe)
            {
                probe = candidates[i];
                return [candidates[i]];
            }
        }

        return [];
    }

    /// <summary>
    /// Before an attempt: narrows the destinations YARP's load balancer may pick to those whose circuit admits a
    /// request. False when none does: the request fails fast with 503. With no destination at all it changes nothing
    /// (YARP answers that itself). <paramref name="probe"/> must be reported with <see cref="RecordAttempt"/>.
    /// </summary>
    public bool TryNarrow(IReverseProxyFeature proxyFeature, out DestinationState? probe)
    {
        probe = null;
        var candidates = proxyFeature.AvailableDestinations;
        if (candidates.Count == 0)
        {
            return true;
        }

        var allowed = Allowed(candidates, out probe);
        if (allowed.Count == 0)
        {
            return false;
        }

        proxyFeature.AvailableDestinations = allowed;
        return true;
    }

    /// <summary>
    /// After an attempt on <paramref name="destination"/> (null when none was picked): a 5xx or a transport error counts
    /// against it, an attempt the caller abandoned counts for nothing (a probe it held is given back). Returns true
    /// when this attempt opened the destination's circuit.
    /// </summary>
    public bool RecordAttempt(DestinationState? destination, bool failure, bool callerLeft, DestinationState? probe)
    {
        if (destination is null || callerLeft)
        {
            if (probe is not null)
            {
                For(probe).ReleaseProbe();
            }

            return false;
        }

        return Record(destination, failure, probe);
    }

    /// <summary>Counts an attempt's outcome; returns true when it opened the destination's circuit.</summary>
    public bool Record(DestinationState destination, bool failure, DestinationState? probe)
    {
        var circuit = For(destination);
        var wasProbe = ReferenceEquals(destination, probe);
        if (probe is not null && !wasProbe)
        {
            For(probe).ReleaseProbe();
        }

        var opened = circuit.Record(failure, wasProbe);
        if (opened && !wasProbe)
        {
            // Only the thread whose compare-and-swap closed -> open won gets here, so the count cannot drift.
            Interlocked.Increment(ref _notClosed);
        }
        else if (wasProbe && !failure)
        {
            Interlocked.Decrement(ref _notClosed);
        }

        return opened;
    }
}
