namespace Sidecar.Overload;

/// <summary>
/// Gives memory back after a burst. The GC collects only when something allocates, so after a burst an idle proxy
/// keeps its grown heap (and its RSS) until the next requests, and a heap holding the burst's garbage keeps memory
/// pressure, and the overload state, up. On the overload manager's timer, it forces a full compacting collection:
/// 1. once no request arrived for <see cref="QuietPeriod"/> (the proxy is idle; a pause hurts no one), when the heap
///    grew by half, and by at least <see cref="MinGrowth"/>, since the last trim, or every QuietPeriod while
///    protections are on: an aggressive collection, which also returns the freed memory to the OS. Then
///    <see cref="FollowUps"/> more, one every <see cref="FollowUpPeriod"/> while the proxy stays idle: the pools
///    (pooled upstream connections, see <c>UpstreamHttpClientFactory</c>; array pools) let go of the burst's buffers
///    over the next half minute, and only a collection frees what they let go. Each trim first empties Kestrel's
///    buffer pools (<see cref="TrimmableMemoryPool"/>) and ends by giving the C heap's free pages back
///    (<see cref="NativeHeap"/>: OpenSSL's memory for TLS connections and handshakes);
/// 2. while protections are on and requests keep coming, at most every QuietPeriod and only if something was
///    allocated since the last one: the pressure may be garbage, and a full collection tells.
/// Measured on the native build after two bursts of 1,000 concurrent 60 KiB uploads, no memory limit: RSS 224 MiB at
/// the end of the burst, 61 MiB 5 s later, 51 MiB after a minute, against 38 MiB idle (without: 176 MiB after a minute).
/// </summary>
internal sealed class HeapTrimmer
{
    /// <summary>Two seconds without a request: the burst is over, and a pause hurts no one.</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    /// <summary>Less growth than this is not worth a collection (a starting proxy grows by a few MiB).</summary>
    public const long MinGrowth = 8 * 1024 * 1024;

    /// <summary>Kestrel evicts idle blocks and pooled upstream connections close within half a minute.</summary>
    public static readonly TimeSpan FollowUpPeriod = TimeSpan.FromSeconds(10);

    /// <summary>Follow-ups cover the minute after a burst; each is a full collection of an idle, small heap (a few ms).</summary>
    public const int FollowUps = 5;

    private readonly RequestAdmission _admission;
    private readonly TrimmableMemoryPoolFactory _pools;
    private readonly TimeProvider _timeProvider;
    private int _arrivals = -1;
    private long _idleSince;
    private int _collections;
    private int _fullCollections;
    private long _lastFullCollection;
    private long _trimmedAt;
    private long _trimmedHeap;
    private int _followUps;

    public HeapTrimmer(RequestAdmission admission, TrimmableMemoryPoolFactory pools, TimeProvider timeProvider)
    {
        _admission = admission;
        _pools = pools;
        _timeProvider = timeProvider;
        _trimmedAt = _lastFullCollection = timeProvider.GetTimestamp();
        _collections = GC.CollectionCount(0);
        _fullCollections = GC.CollectionCount(2);
        _trimmedHeap = GC.GetGCMemoryInfo().HeapSizeBytes;
    }

    /// <summary>Called on every sample of the overload manager; <paramref name="elevated"/> when protections are on.</summary>
    public void Tick(bool elevated)
    {
        var now = _timeProvider.GetTimestamp();
        var arrivals = _admission.Arrivals;
        if (arrivals != _arrivals || _admission.InFlight > 0)
        {
            _arrivals = arrivals;
            _idleSince = now;
            _followUps = 0;
        }

        var fullCollections = GC.CollectionCount(2);
        if (fullCollections != _fullCollections)
        {
            _fullCollections = fullCollections;
            _lastFullCollection = now;
        }

        if (_timeProvider.GetElapsedTime(_idleSince, now) >= QuietPeriod)
        {
            // Idle: collecting pauses no one. While protections are on, every QuietPeriod: the memory load the GC
            // reports is measured as a collection starts, so it takes two to see what the first one freed.
            var due = elevated ? _timeProvider.GetElapsedTime(_trimmedAt, now) >= QuietPeriod
                : _followUps > 0 ? _timeProvider.GetElapsedTime(_trimmedAt, now) >= FollowUpPeriod
                : Grew(GC.GetGCMemoryInfo().HeapSizeBytes);
            if (due)
            {
                _followUps = elevated || _followUps == 0 ? FollowUps : _followUps - 1;
                Trim(GCCollectionMode.Aggressive, now);
            }
        }
        else if (elevated && GC.CollectionCount(0) != _collections && _timeProvider.GetElapsedTime(_lastFullCollection, now) >= QuietPeriod)
        {
            // Busy and short of memory: a full collection at most every QuietPeriod tells garbage from real pressure.
            // Aggressive, so what it frees is given back to the OS too: the memory load counts committed memory, and
            // a heap that kept the burst's freed pages kept admission shut (RejectRequests) with nothing in flight.
            Trim(GCCollectionMode.Aggressive, now);
        }
    }

    private bool Grew(long heap) => heap - _trimmedHeap >= Math.Max(_trimmedHeap / 2, MinGrowth);

    private void Trim(GCCollectionMode mode, long now)
    {
        // Free pooled blocks are garbage once dropped; Kestrel allocates new ones as connections need them.
        _pools.Trim();
        GC.Collect(GC.MaxGeneration, mode, blocking: true, compacting: true);
        // What the burst freed in the C heap (OpenSSL's connection and handshake state) stays resident until trimmed.
        NativeHeap.Trim();
        _trimmedHeap = GC.GetGCMemoryInfo().HeapSizeBytes;
        _trimmedAt = now;
        // Its own collections are not the proxy's activity.
        _collections = GC.CollectionCount(0);
        _fullCollections = GC.CollectionCount(2);
        _lastFullCollection = now;
    }
}
