using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// Decides on the request path, with one volatile read and one interlocked add, whether a new request is proxied:
/// not while the overload manager rejects requests, and not past <c>limits.max_concurrent_requests</c> in flight.
/// A request that is let in must call <see cref="Exit"/> when it ends. The overload manager sets the state here.
/// </summary>
/// <remarks>
/// At <c>max_concurrent_requests</c> a request waits for a slot (<see cref="WaitToEnterAsync"/>) rather than get a 503
/// at once, as Envoy queues a cluster's pending requests: first come, first served, handed the slot of a request that
/// ends. The wait is bounded in time (by its caller: never past the request's deadline) and in memory: at most
/// <see cref="MaxWaiting"/> requests wait, and none is let in while memory pressure rejects requests.
/// </remarks>
internal sealed class RequestAdmission
{
    // Low 32 bits: requests in flight. High 32 bits: requests that arrived, wrapping; the heap trimmer only asks
    // whether it moved. One counter, so arriving costs one interlocked add.
    private const long Arrival = 1L << 32;

    private readonly SidecarConfigStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    // Requests waiting for a slot, the oldest first; _waiting is their count, read without the lock on Exit.
    private readonly LinkedList<TaskCompletionSource<bool>> _waiters = new();
    private int _waiting;
    private long _counter;
    private int _state;

    public RequestAdmission(SidecarConfigStore store, TimeProvider timeProvider)
    {
        _store = store;
        _timeProvider = timeProvider;
    }

    /// <summary>Requests waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

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

    /// <summary>
    /// After <see cref="TryEnter"/> refused a request for <see cref="OverloadAction.ConcurrencyLimit"/>: waits at most
    /// <paramref name="maxWait"/> for the slot of a request that ends. True when let in (call <see cref="Exit"/> when it
    /// ends); false when too many wait already, time ran out, or memory pressure rejects requests meanwhile.
    /// </summary>
    public async ValueTask<bool> WaitToEnterAsync(TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (maxWait <= TimeSpan.Zero || State >= OverloadState.RejectRequests)
        {
            return false;
        }

        var waiter = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        LinkedListNode<TaskCompletionSource<bool>> node;
        lock (_lock)
        {
            if (_waiters.Count >= MaxWaiting(_store.Config.Limits))
            {
                return false;
            }

            node = _waiters.AddLast(waiter);
            Volatile.Write(ref _waiting, _waiters.Count);
        }

        // A request may have ended between the refusal and the queueing: its slot would otherwise wait for the next.
        HandOff();
        try
        {
            // False: memory pressure began to reject requests while it waited.
            return await waiter.Task.WaitAsync(maxWait, _timeProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            lock (_lock)
            {
                if (node.List is not null)
                {
                    _waiters.Remove(node);
                    Volatile.Write(ref _waiting, _waiters.Count);
                    return false;
                }
            }

            // Handed a slot as the wait ended: give it back, to the next in line if any.
            Exit();
            return false;
        }
    }

    /// <summary>
    /// How many requests may wait: twice <c>max_pending_connections</c>. A waiting request holds at most its
    /// connection's receive buffer, the unit that limit is derived from (a quarter of the heap), so waiting requests
    /// may take half of it; the overload manager's memory checks still stop admitting them if memory runs short first.
    /// </summary>
    internal static int MaxWaiting(Configuration.LimitsOptions limits) => (int)Math.Min(2L * limits.MaxPendingConnections, int.MaxValue);

    public void Exit()
    {
        Interlocked.Decrement(ref _counter);
        if (Volatile.Read(ref _waiting) > 0)
        {
            HandOff();
        }
    }

    /// <summary>Gives free slots to the requests waiting longest, while memory allows new requests.</summary>
    private void HandOff()
    {
        while (true)
        {
            TaskCompletionSource<bool> waiter;
            lock (_lock)
            {
                if (_waiters.First is not { } first || State >= OverloadState.RejectRequests)
                {
                    return;
                }

                if ((int)Interlocked.Increment(ref _counter) > _store.Config.Limits.MaxConcurrentRequests)
                {
                    Interlocked.Decrement(ref _counter);
                    return;
                }

                waiter = first.Value;
                _waiters.RemoveFirst();
                Volatile.Write(ref _waiting, _waiters.Count);
            }

            waiter.TrySetResult(true);
        }
    }

    /// <summary>
    /// Memory pressure rejects new requests: so are the waiting ones, at once. They hold their connections' receive
    /// buffers, so waiting on would keep the pressure up until their deadlines (a burst in a 128 MiB pod did that).
    /// </summary>
    private void RefuseWaiters()
    {
        List<TaskCompletionSource<bool>> refused;
        lock (_lock)
        {
            refused = [.. _waiters];
            _waiters.Clear();
            Volatile.Write(ref _waiting, 0);
        }

        foreach (var waiter in refused)
        {
            waiter.TrySetResult(false);
        }
    }

    internal void SetState(OverloadState state)
    {
        Volatile.Write(ref _state, (int)state);
        if (state >= OverloadState.RejectRequests && Volatile.Read(ref _waiting) > 0)
        {
            RefuseWaiters();
        }
    }
}
