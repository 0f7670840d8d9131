using System.Runtime;

namespace Sidecar.Hosting;

/// <summary>
/// Defers the process's first garbage collection until <see cref="Budget"/> has been allocated, so that
/// <c>sidecar run</c> starts without one.
/// Starting allocates about 9 MB, most of which lives on (the two hosts' containers, the OpenTelemetry SDK's metric
/// points). From the small first gen0 budget of the server GC's dynamic adaptation, the native build collected twice
/// in that time: 18 ms of pauses before ready (tests/bench/README.md, "Time to ready").
/// </summary>
/// <remarks>
/// A no-GC region of <see cref="Budget"/>, left to end by itself: at the first collection, when the budget is spent
/// or the heap trimmer induces one. Ended explicitly once both servers listened, the collection it had put off ran
/// at once, in the middle of the first <c>/readyz</c>, and under a one-core CPU quota made ready later than without
/// the region.
/// </remarks>
internal static class FirstGarbageCollection
{
    /// <summary>About twice what the default config allocates to start; well under any heap limit.</summary>
    internal const long Budget = 16 * 1024 * 1024;

    /// <summary>Starts the region; false when a region is on already or the GC cannot promise the budget.</summary>
    public static bool Defer()
    {
        // Asked again while a region is on, the GC throws only after a collection, which ends that region.
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            return false;
        }

        try
        {
            return GC.TryStartNoGCRegion(Budget);
        }
        catch (InvalidOperationException)
        {
            // Another thread started one since the check above.
            return false;
        }
        catch (ArgumentOutOfRangeException)
        {
            // More than the GC can promise under this heap limit: start as without it.
            return false;
        }
    }
}
