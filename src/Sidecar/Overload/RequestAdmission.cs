using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// Decides on the request path, with one volatile read and one interlocked add, whether a new request is proxied:
/// not while the overload manager rejects requests, and not past <c>limits.max_concurrent_requests</c> in flight.
/// A request that is let in must call <see cref="Exit"/> when it ends. The overload manager sets the state here.
/// </summary>
internal sealed class RequestAdmission
{
    // Low 32 bits: requests in flight. High 32 bits: requests that arrived, wrapping; the heap trimmer only asks
    // whether it moved. One counter, so arriving costs one interlocked add.
    private const long Arrival = 1L << 32;

    private readonly SidecarConfigStore _store;
    private long _counter;
    private int _state;

    public RequestAdmission(SidecarConfigStore store)
    {
        _store = store;
    }

    /// <summary>The protections in force, as the overload manager last set them.</summary>
    public OverloadState State => (OverloadState)Volatile.Read(ref _state);

    /// <summary>Requests let in and not yet ended.</summary>
    public int InFlight => (int)Volatile.Read(ref _counter);

    /// <summary>Moves whenever a request arrives (admitted or not); compare two readings.</summary>
    public int Arrivals => (int)(Volatile.Read(ref _counter) >> 32);

    /// <summary>Whether a request's body may be buffered for replay, or must be forwarded once because memory is short.</summary>
    public bool BufferingAllowed => State < OverloadState.StopBuffering;

    /// <summary>True when the request may be proxied; otherwise <paramref name="action"/> says why not (with true it is not meaningful).</summary>
    public bool TryEnter(out OverloadAction action)
    {
        var counter = Interlocked.Add(ref _counter, Arrival + 1);
        if (State >= OverloadState.RejectRequests)
        {
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.RequestRejected;
            return false;
        }

        if ((int)counter > _store.Config.Limits.MaxConcurrentRequests)
        {
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.ConcurrencyLimit;
            return false;
        }

        action = default;
        return true;
    }

    public void Exit() => Interlocked.Decrement(ref _counter);

    internal void SetState(OverloadState state) => Volatile.Write(ref _state, (int)state);
}
