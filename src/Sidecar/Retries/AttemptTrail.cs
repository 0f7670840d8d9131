using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// What each attempt of one request did, for the access log and the explain header: kept only for a request one of
/// them will show (<see cref="RetryState.Trail"/> is null otherwise, so a request nobody looks at allocates nothing).
/// Written by the attempt loop, read after it or from the response's OnStarting callback.
/// </summary>
internal sealed class AttemptTrail
{
    private readonly List<AttemptRecord> _attempts = new(4);

    public AttemptTrail(bool explain, AccessLogMode log)
    {
        Explain = explain;
        Log = log;
    }

    /// <summary>What the access log does with the request, as decided (and sampled) when it began: off for explain only.</summary>
    public AccessLogMode Log { get; }

    /// <summary>The caller asked for the <c>x-sidecar-explain</c> header and the policy allows it.</summary>
    public bool Explain { get; }

    /// <summary>A copy of the attempts that ended, by number (hedged attempts may end out of order).</summary>
    public AttemptRecord[] Attempts
    {
        get
        {
            AttemptRecord[] copy;
            lock (_attempts)
            {
                copy = [.. _attempts];
            }

            Array.Sort(copy, static (a, b) => a.Number.CompareTo(b.Number));
            return copy;
        }
    }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> value at which the attempt in flight started.</summary>
    public long CurrentStart { get; private set; }

    /// <summary>
    /// The request's outcome when it was known before the response started without a commit of the attempt in flight:
    /// an answer the loop gave itself (a 502, 503, 504), or a hedging race's winner.
    /// </summary>
    public RequestOutcome? Decision { get; set; }

    public void Started(long timestamp) => CurrentStart = timestamp;

    /// <summary>An attempt ended; hedged attempts end concurrently.</summary>
    public void Completed(in AttemptRecord attempt)
    {
        lock (_attempts)
        {
            _attempts.Add(attempt);
        }
    }

    /// <summary>The last attempt that ended is followed by another after <paramref name="wait"/>, for <paramref name="reason"/>.</summary>
    public void Retrying(TimeSpan wait, string reason)
    {
        lock (_attempts)
        {
            if (_attempts.Count > 0)
            {
                _attempts[^1] = _attempts[^1] with { Wait = wait, RetryReason = reason };
            }
        }
    }
}

/// <summary>One attempt of a request.</summary>
/// <param name="Number">1-based.</param>
/// <param name="Destination">The destination's address as configured; null when none was picked.</param>
/// <param name="Status">The response's status; 0 when none came (then <paramref name="Result"/> says what happened).</param>
/// <param name="Result">Its <c>sidecar_upstream_attempts_total</c> result.</param>
/// <param name="Duration">From sending to the end of the attempt.</param>
/// <param name="Wait">The backoff before the next attempt (with <paramref name="RetryReason"/>).</param>
/// <param name="RetryReason">The <c>sidecar_retries_total</c> reason of the next attempt; null when none followed.</param>
/// <param name="GrpcStatus">The gRPC status of a trailers-only response; -1 for none.</param>
internal readonly record struct AttemptRecord(int Number, string? Destination, int Status, AttemptResult Result, TimeSpan Duration, TimeSpan Wait = default, string? RetryReason = null, int GrpcStatus = -1);
