namespace Sidecar.Routing;

/// <summary>
/// The requests one route has in flight, counted against its share of <c>limits.max_concurrent_requests</c>
/// (Overload/<c>RequestAdmission</c>). One per route name, shared by every snapshot, so a reload keeps the count of
/// requests still running.
/// </summary>
internal sealed class RouteInFlight
{
    private int _count;

    public RouteInFlight(string route)
    {
        Route = route;
    }

    public string Route { get; }

    /// <summary>Requests of this route let in and not yet ended.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Takes a slot; true while the route then holds at most <paramref name="ceiling"/>, else gives it back.</summary>
    public bool TryEnter(int ceiling)
    {
        if (Interlocked.Increment(ref _count) <= ceiling)
        {
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _count);
}
