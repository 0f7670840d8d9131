using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// Decides on the request path, with a volatile read and an interlocked add or two, whether a new request is proxied:
/// not while the overload manager rejects requests, not past <c>limits.max_concurrent_requests</c> in flight, and not
/// past its route's share of them. A request that is let in must call <c>Exit</c> when it ends. The overload
/// manager sets the state here.
/// </summary>
/// <remarks>
/// At <c>max_concurrent_requests</c> a request waits for a slot (<c>WaitToEnterAsync</c>) rather than get a 503
/// at once, as Envoy queues a cluster's pending requests: first come, first served, handed the slot of a request that
/// ends. The wait is bounded in time (by its caller: never past the request's deadline; refused at once when its place
/// in line at the rate the line moves, <see cref="LineDrainRate"/>, says it would wait longer) and in memory: at most
/// <see cref="MaxWaiting"/> requests wait, none is let in while memory pressure rejects requests, and at
/// <c>stop_accepting</c> the waiting ones are refused. A waiting request on a new connection also keeps its
/// <c>max_pending_connections</c> slot (Hosting's <c>RequestTargetGuard</c>): it holds its connection's unread bytes
/// as a pending one does, so further connections wait in the kernel's accept queue, where they cost the pod nothing.
/// While Sidecar has more than one route, one route holds at most <see cref="RouteCeiling"/> slots: one route's slow
/// callers (uploads at 300 B/s) cannot take every slot, and the next free slot goes to the longest waiting request
/// whose route is under its ceiling.
/// <para>
/// Buffer room: a request that wants a replay copy of its body (a policy route, a body within <c>buffer_limit</c>)
/// reserves its size when let in and gives it back when it ends (<see cref="ReplayRoom"/>). Once memory pressure reaches
/// <c>stop_buffering</c> the room is frozen at what is reserved then: the copies held stop growing, and a new copy is let
/// in only as one ends. A request without room waits in the same line (it is not forwarded with no copy,
/// whose first 503 would then be passed on); when no request holds a copy, none will end to make room, so it goes
/// without one (<see cref="AdmissionEntry.CopyShed"/>). No later arrival overtakes a waiting request: while any wait, new
/// requests queue behind them.
/// </para>
/// </remarks>
internal sealed class RequestAdmission
{
    /// <summary>While there are other routes, one route leaves an eighth of the slots (at least one) to them.</summary>
    internal const int RouteReserveDivisor = 8;

    /// <summary>How often the line is checked for requests that can no longer be let in before their bound.</summary>
    internal static readonly TimeSpan PruneInterval = TimeSpan.FromMilliseconds(250);

    // Low 32 bits: requests in flight. High 32 bits: requests that arrived, wrapping; the heap trimmer only asks
    // whether it moved. One counter, so arriving costs one interlocked add.
    private const long Arrival = 1L << 32;

    private readonly SidecarConfigStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    // Requests waiting for a slot, the oldest first; _waiting is their count, read without the lock on Exit.
    private readonly LinkedList<SlotWaiter> _waiters = new();
    private readonly LineDrainRate _line;
    private readonly ReplayRoom _room = new();
    // Runs every PruneInterval while anyone waits.
    private ITimer? _pruner;
    private int _waiting;
    private long _counter;
    private int _state;

    public RequestAdmission(SidecarConfigStore store, TimeProvider timeProvider)
    {
        _store = store;
        _timeProvider = timeProvider;
        _line = new LineDrainRate(timeProvider);
    }

    /// <summary>Requests waiting for a slot now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>The protections in force, as the overload manager last set them.</summary>
    public OverloadState State => (OverloadState)Volatile.Read(ref _state);

    /// <summary>Requests let in and not yet ended.</summary>
    public int InFlight => (int)Volatile.Read(ref _counter);

    /// <summary>Moves whenever a request arrives (admitted or not); compare two readings.</summary>
    public int Arrivals => (int)(Volatile.Read(ref _counter) >> 32);

    /// <summary>Bytes reserved for replay copies by the requests in flight.</summary>
    public long Reserved => _room.Reserved;

    /// <summary>As below, for a request without a body to copy: true when it may be proxied.</summary>
    public bool TryEnter(RouteInFlight? route, out OverloadAction action) => TryEnter(route, 0, out action).Admitted;

    /// <summary>
    /// Lets the request in when a slot is free, no request waits before it, and (with <paramref name="copyBytes"/>
    /// above 0, the size of the replay copy it wants) there is buffer room; otherwise <paramref name="action"/> says
    /// why not: <see cref="OverloadAction.ConcurrencyLimit"/> means it may wait (<see cref="WaitToEnterAsync(RouteInFlight?, long, TimeSpan, bool, CancellationToken)"/>).
    /// </summary>
    public AdmissionEntry TryEnter(RouteInFlight? route, long copyBytes, out OverloadAction action)
    {
        var counter = Interlocked.Add(ref _counter, Arrival + 1);
        if (State >= OverloadState.RejectRequests)
        {
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.RequestRejected;
            return default;
        }

        var config = _store.Config;
        var max = config.Limits.MaxConcurrentRequests;
        // Volatile.Read(ref _waiting) > 0: the ones waiting go first.
        if ((int)counter > max || Volatile.Read(ref _waiting) > 0 || (route is not null && !route.TryEnter(RouteCeiling(max, config.Routes.Count))))
        {
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.ConcurrencyLimit;
            return default;
        }

        if (!_room.TryReserve(copyBytes, out var entry))
        {
            route?.Exit();
            Interlocked.Decrement(ref _counter);
            action = OverloadAction.ConcurrencyLimit;
            return default;
        }

        action = default;
        return entry;
    }

    /// <summary>
    /// After <c>TryEnter</c> refused a request for <see cref="OverloadAction.ConcurrencyLimit"/>: waits at most
    /// <paramref name="maxWait"/> for the slot of a request that ends. True when let in (call <c>Exit</c> when it
    /// ends); false when too many wait already, its expected wait passes <paramref name="maxWait"/>, time ran out,
    /// memory pressure rejected requests as it arrived or stopped accepting meanwhile.
    /// </summary>
    public async ValueTask<bool> WaitToEnterAsync(RouteInFlight? route, TimeSpan maxWait, CancellationToken cancellationToken) =>
        (await WaitToEnterAsync(route, 0, maxWait, isDeadline: false, cancellationToken)).Admitted;

    /// <summary>
    /// As above, for a request that wants a replay copy of <paramref name="copyBytes"/>: it is let in with its buffer
    /// room reserved, in its turn. With <paramref name="isDeadline"/>, <paramref name="maxWait"/> is the time to the request's deadline, by
    /// which it must have been served, not only let in: it is refused when its expected wait and the time a request
    /// then spends in flight (Little's law: those in flight over the rate the line moves) together pass it.
    /// </summary>
    public async ValueTask<AdmissionEntry> WaitToEnterAsync(RouteInFlight? route, long copyBytes, TimeSpan maxWait, bool isDeadline, CancellationToken cancellationToken)
    {
        if (maxWait <= TimeSpan.Zero || State >= OverloadState.RejectRequests)
        {
            return default;
        }

        var waiter = new SlotWaiter(route, copyBytes, _timeProvider.GetTimestamp() + (long)(maxWait.TotalSeconds * _timeProvider.TimestampFrequency), isDeadline);
        LinkedListNode<SlotWaiter> node;
        lock (_lock)
        {
            // Expected to wait past its bound: its 503 now, not at the bound, gives back its connection and memory.
            if (_waiters.Count >= MaxWaiting(_store.Config.Limits) || ExpectedWait(_waiters.Count, waiter) > maxWait)
            {
                return default;
            }

            node = _waiters.AddLast(waiter);
            Volatile.Write(ref _waiting, _waiters.Count);
            if (_waiters.Count == 1)
            {
                _line.Joined(formed: true);
                (_pruner ??= _timeProvider.CreateTimer(static state => ((RequestAdmission)state!).Prune(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan))
                    .Change(PruneInterval, PruneInterval);
            }
        }

        // A request may have ended between the refusal and the queueing: its slot would otherwise wait for the next.
        HandOff();
        try
        {
            // Not admitted: memory pressure reached stop_accepting while it waited.
            return await waiter.Admitted.Task.WaitAsync(maxWait, _timeProvider, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            bool handed;
            lock (_lock)
            {
                handed = node.List is null;
                if (!handed)
                {
                    Leave(node);
                }
            }

            if (handed)
            {
                // Handed a slot as the wait ended: give it back, to the next in line if any.
                Exit(route, waiter.Granted.CopyBytes);
            }
            else if (Volatile.Read(ref _waiting) > 0)
            {
                // It may have been the head that the room did not fit: the next one may fit.
                HandOff();
            }

            return default;
        }
    }

    /// <summary>How many may wait: twice <c>max_pending_connections</c>, each holding at most a receive buffer, that cap's unit.</summary>
    internal static int MaxWaiting(Configuration.LimitsOptions limits) => (int)Math.Min(2L * limits.MaxPendingConnections, int.MaxValue);

    /// <summary>
    /// The most slots one route may hold: all of them when it is the only route, else all but an eighth (at least one),
    /// which only the other routes may take. A burst on one route still gets seven eighths at once.
    /// </summary>
    internal static int RouteCeiling(int maxConcurrent, int routes) =>
        routes <= 1 ? maxConcurrent : Math.Max(1, maxConcurrent - Math.Max(1, maxConcurrent / RouteReserveDivisor));

    /// <summary>Ends a request let in without a reserved copy, of the same route.</summary>
    public void Exit(RouteInFlight? route) => Exit(route, 0);

    /// <summary>
    /// Ends a request let in by <c>TryEnter</c> or <c>WaitToEnterAsync</c>, of the same route, giving back the
    /// <paramref name="copyBytes"/> of buffer room it reserved (<see cref="AdmissionEntry.CopyBytes"/>): once its copy is freed.
    /// </summary>
    public void Exit(RouteInFlight? route, long copyBytes)
    {
        route?.Exit();
        _room.Release(copyBytes);
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
            SlotWaiter waiter;
            AdmissionEntry entry;
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
                if (!_room.TryReserve(waiter.CopyBytes, out entry))
                {
                    // No room for its copy yet: it keeps its place, and no one behind it goes first.
                    waiter.Route?.Exit();
                    Interlocked.Decrement(ref _counter);
                    return;
                }

                waiter.Granted = entry;
                _line.HandedOff();
                Leave(node);
            }

            waiter.Admitted.TrySetResult(entry);
        }
    }

    /// <summary>Takes a waiting request out of line; under the lock.</summary>
    private void Leave(LinkedListNode<SlotWaiter> node)
    {
        _waiters.Remove(node);
        Volatile.Write(ref _waiting, _waiters.Count);
        if (_waiters.Count == 0)
        {
            _line.Emptied();
            _pruner?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>How long <paramref name="waiter"/>, behind <paramref name="ahead"/> others, would wait (and then be in flight, for a deadline).</summary>
    private TimeSpan? ExpectedWait(int ahead, SlotWaiter waiter) => _line.ExpectedWait(waiter.IsDeadline ? ahead + InFlight : ahead);

    /// <summary>Refuses the waiting requests that, at the rate the line moves now, would reach its head only after their
    /// bound: a line that stalls (memory pressure, an upstream that slowed down) gives their connections back now.</summary>
    private void Prune()
    {
        List<SlotWaiter>? refused = null;
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            var ahead = 0;
            for (var node = _waiters.First; node is not null;)
            {
                var next = node.Next;
                if (ExpectedWait(ahead, node.Value) > _timeProvider.GetElapsedTime(now, node.Value.Bound))
                {
                    (refused ??= []).Add(node.Value);
                    Leave(node);
                }
                else
                {
                    ahead++;
                }

                node = next;
            }
        }

        if (refused is null)
        {
            return;
        }

        foreach (var waiter in refused)
        {
            waiter.Admitted.TrySetResult(default);
        }

        // The head may have been one whose copy had no room: the next one may fit.
        HandOff();
    }

    /// <summary>
    /// Memory pressure stops accepting: the waiting requests are refused at once, to give back their connections'
    /// receive buffers. Under <c>reject_requests</c> alone they keep their place (no new one joins): they hold no more
    /// than they did, and the requests in flight that end bring the pressure down and let them in.
    /// </summary>
    private void RefuseWaiters()
    {
        List<SlotWaiter> refused;
        lock (_lock)
        {
            refused = [.. _waiters];
            _waiters.Clear();
            Volatile.Write(ref _waiting, 0);
            _line.Emptied();
            _pruner?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        foreach (var waiter in refused)
        {
            waiter.Admitted.TrySetResult(default);
        }
    }

    internal void SetState(OverloadState state)
    {
        var previous = (OverloadState)Interlocked.Exchange(ref _state, (int)state);
        lock (_lock)
        {
            _line.Held(state >= OverloadState.RejectRequests);
        }

        if (state >= OverloadState.StopBuffering && previous < OverloadState.StopBuffering)
        {
            // Memory is short: the copies held may be replaced as they end, not added to.
            _room.Freeze();
        }
        else if (state < OverloadState.StopBuffering)
        {
            _room.Thaw();
        }

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
}
