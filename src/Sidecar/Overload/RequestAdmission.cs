using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// Decides on the request path, with a volatile read and an interlocked add or two, whether a new request is proxied:
/// not while the overload manager rejects requests, not past <c>limits.max_concurrent_requests</c> in flight, and not
/// past its route's share of them. A request that is let in must call <see cref="Exit"/> when it ends. The overload
/// manager sets the state here.
/// </summary>
/// <remarks>
/// At <c>max_concurrent_requests</c> a request waits for a slot (<see cref="WaitToEnterAsync"/>) rather than get a 503
/// at once, as Envoy queues a cluster's pending requests: first come, first served, handed the slot of a request that
/// ends. The wait is bounded in time (by its caller: never past the request's deadline) and in memory: at most
/// <see cref="MaxWaiting"/> requests wait, none is let in while memory pressure rejects requests, and at
/// <c>stop_accepting</c> the waiting ones are refused. A waiting request on a new connection also keeps its
/// <c>max_pending_connections</c> slot (Hosting's <c>RequestTargetGuard</c>): it holds its connection's unread bytes
/// as a pending one does, so further connections wait in the kernel's accept queue, where they cost the pod nothing.
/// While Sidecar has more than one route, one route holds at most <see cref="RouteCeiling"/> slots: one route's slow
/// callers (uploads at 300 B/s) cannot take every slot, and the next free slot goes to the longest waiting request
/// whose route is under its ceiling.
/// </remarks>
internal sealed class RequestAdmission
{
    /// <summary>While there are other routes, one route leaves an eighth of the slots (at least one) to them.</summary>
    internal const int RouteReserveDivisor = 8;

    // Low 32 bits: requests in flight. High 32 bits: requests that arrived, wrapping; the heap trimmer only asks
    // whether it moved. One counter, so arriving costs one interlocked add.
    private const long Arrival = 1L << 32;

    private readonly SidecarConfigStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    // Requests waiting for a slot, the oldest first; _waiting is their count, read without the lock on Exit.
    private readonly LinkedList<Waiter> _waiters = new();
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

    /// <summary>
    /// True when the request (of <paramref name="route"/>, null when its route is gone) may be proxied; otherwise
    /// <paramref name="action"/> says why not (with true it is not meaningful).
    /// </summary>
    public bool TryEnter(RouteInFlight? route, out OverloadAction action)
    {
        var counter = Interlocked.Add(ref _counter, Arrival + 1);
        if (State >= OverloadState.RejectRequests)
        {
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.RequestRejected;
            return false;
        }

        var config = _store.Config;
        var max = config.Limits.MaxConcurrentRequests;
        if ((int)counter > max || (route is not null && !route.TryEnter(RouteCeiling(max, config.Routes.Count))))
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
    /// ends); false when too many wait already, time ran out, memory pressure rejected requests as it arrived or
    /// stopped accepting meanwhile.
    /// </summary>
    public async ValueTask<bool> WaitToEnterAsync(RouteInFlight? route, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        if (maxWait <= TimeSpan.Zero || State >= OverloadState.RejectRequests)
        {
            return false;
        }

        var waiter = new Waiter(route);
        LinkedListNode<Waiter> node;
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
            // False: memory pressure reached stop_accepting while it waited.
            return await waiter.Admitted.Task.WaitAsync(maxWait, _timeProvider, cancellationToken);
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
            Exit(route);
            return false;
        }
    }

    /// <summary>
    /// How many requests may wait: twice <c>max_pending_connections</c>. A waiting request holds at most its
    /// connection's receive buffer, the unit that limit is derived from (a quarter of the heap), so waiting requests
    /// may take half of it; the overload manager's memory checks still stop admitting them if memory runs short first.
    /// </summary>
    internal static int MaxWaiting(Configuration.LimitsOptions limits) => (int)Math.Min(2L * limits.MaxPendingConnections, int.MaxValue);

    /// <summary>
    /// The most slots one route may hold: all of them when it is the only route, else all but an eighth (at least one),
    /// which only the other routes may take. A burst on one route still gets seven eighths at once.
    /// </summary>
    internal static int RouteCeiling(int maxConcurrent, int routes) =>
        routes <= 1 ? maxConcurrent : Math.Max(1, maxConcurrent - Math.Max(1, maxConcurrent / RouteReserveDivisor));

    /// <summary>Ends a request let in by <see cref="TryEnter"/> or <see cref="WaitToEnterAsync"/>, of the same route.</summary>
    public void Exit(RouteInFlight? route)
    {
        route?.Exit();
        Interlocked.Decrement(ref _counter);
        if (Volatile.Read(ref _waiting) > 0)
        {
            HandOff();
        }
    }

    /// <summary>
    /// Gives free slots to the requests waiting longest whose routes are under their ceiling, while memory allows new
    /// requests.
    /// </summary>
    private void HandOff()
    {
        while (true)
        {
            Waiter waiter;
            lock (_lock)
            {
                if (_waiters.First is null || State >= OverloadState.RejectRequests)
                {
                    return;
                }

                var config = _store.Config;
                var max = config.Limits.MaxConcurrentRequests;
                if ((int)Interlocked.Increment(ref _counter) > max)
                {
                    Interlocked.Decrement(ref _counter);
                    return;
                }

                var ceiling = RouteCeiling(max, config.Routes.Count);
                var node = _waiters.First;
                while (node is not null && node.Value.Route?.TryEnter(ceiling) == false)
                {
                    node = node.Next;
                }

                if (node is null)
                {
                    // Every waiting request's route holds its ceiling: the slot stays free for another route.
                    Interlocked.Decrement(ref _counter);
                    return;
                }

                waiter = node.Value;
                _waiters.Remove(node);
                Volatile.Write(ref _waiting, _waiters.Count);
            }

            waiter.Admitted.TrySetResult(true);
        }
    }

    /// <summary>
    /// Memory pressure stops accepting: the waiting requests are refused at once, to give back their connections'
    /// receive buffers. Under <c>reject_requests</c> alone they keep their place (no new one joins): they hold no more
    /// than they did, and the requests in flight that end bring the pressure down and let them in.
    /// </summary>
    private void RefuseWaiters()
    {
        List<Waiter> refused;
        lock (_lock)
        {
            refused = [.. _waiters];
            _waiters.Clear();
            Volatile.Write(ref _waiting, 0);
        }

        foreach (var waiter in refused)
        {
            waiter.Admitted.TrySetResult(false);
        }
    }

    internal void SetState(OverloadState state)
    {
        Volatile.Write(ref _state, (int)state);
        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        if (state >= OverloadState.StopAccepting)
        {
            RefuseWaiters();
        }
        else if (state < OverloadState.RejectRequests)
        {
            // Pressure fell: free slots go to the waiting requests now, not at the next request's end.
            HandOff();
        }
    }

    /// <summary>A request waiting for a slot, and the route whose share it will take.</summary>
    private sealed class Waiter
    {
        public Waiter(RouteInFlight? route)
        {
            Route = route;
        }

        public RouteInFlight? Route { get; }

        public TaskCompletionSource<bool> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
