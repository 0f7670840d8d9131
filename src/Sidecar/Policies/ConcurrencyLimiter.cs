using System.Diagnostics;

namespace Sidecar.Policies;

/// <summary>
/// A lock-free counting gate: the cap on concurrent retries of a cluster (Envoy's <c>max_retries</c>
/// circuit breaker) and the global cap on requests waiting in backoff. Every successful
/// <see cref="TryEnter()"/> must be paired with one <see cref="Exit"/>.
/// </summary>
internal sealed class ConcurrencyLimiter
{
    private int _current;

    /// <summary>Creates a gate admitting at most <paramref name="limit"/> holders at once (0 admits none).</summary>
    public ConcurrencyLimiter(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        Limit = limit;
    }

    /// <summary>The limit <see cref="TryEnter()"/> applies.</summary>
    public int Limit { get; }

    /// <summary>Holders right now.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Enters if fewer than <see cref="Limit"/> holders are inside.</summary>
    public bool TryEnter() => TryEnter(Limit);

    /// <summary>Enters if fewer than <paramref name="limit"/> holders are inside. Lets a per-cluster gate apply
    /// the limit of the policy at hand, which a configuration reload may change.</summary>
    public bool TryEnter(int limit)
    {
        // A CAS loop rather than increment-then-undo: an undo would make concurrent callers fail spuriously.
        var current = Volatile.Read(ref _current);
        while (current < limit)
        {
            var seen = Interlocked.CompareExchange(ref _current, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Leaves the gate; call once per successful <see cref="TryEnter()"/>.</summary>
    public void Exit()
    {
        var after = Interlocked.Decrement(ref _current);
        Debug.Assert(after >= 0, "Exit called more often than TryEnter succeeded.");
    }
}
