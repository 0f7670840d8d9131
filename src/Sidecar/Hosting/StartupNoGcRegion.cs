using System.Runtime;

namespace Sidecar.Hosting;

/// <summary>
/// Keeps the GC from collecting while <c>sidecar run</c> starts, until both servers listen.
/// Starting allocates about 9 MB, most of which lives on (the two hosts' containers, the OpenTelemetry SDK's metric
/// points). From the small first gen0 budget of the server GC's dynamic adaptation, the native build collected twice
/// in that time: 18 ms of pauses in a start of about 100 ms (tests/bench/README.md, "Time to ready"). A no-GC region
/// with room for <see cref="Budget"/> moves the first collection past ready. If starting ever allocates more, the GC
/// collects there as it would have anyway, and the region is over.
/// </summary>
internal sealed class StartupNoGcRegion : IDisposable
{
    /// <summary>Room for about twice what the default config allocates to start, and well under any heap limit.</summary>
    internal const long Budget = 16 * 1024 * 1024;

    private bool _entered;

    private StartupNoGcRegion(bool entered) => _entered = entered;

    /// <summary>Whether this instance started a region (false when the GC could not, or another one is on).</summary>
    public bool Entered => _entered;

    public static StartupNoGcRegion Enter()
    {
        // Asked again while a region is on, the GC throws only after a collection, which ends that region: leave it
        // to whoever started it.
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            return new StartupNoGcRegion(entered: false);
        }

        try
        {
            return new StartupNoGcRegion(GC.TryStartNoGCRegion(Budget));
        }
        catch (InvalidOperationException)
        {
            // Another thread started one since the check above.
            return new StartupNoGcRegion(entered: false);
        }
        catch (ArgumentOutOfRangeException)
        {
            // More than the GC can promise under this heap limit: start as without it.
            return new StartupNoGcRegion(entered: false);
        }
    }

    public void Dispose()
    {
        if (!_entered)
        {
            return;
        }

        _entered = false;
        if (GCSettings.LatencyMode != GCLatencyMode.NoGCRegion)
        {
            return;
        }

        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // The region ended on its own (start allocated more than the budget, or something induced a collection):
            // the GC has already run, as it would have without the region.
        }
    }
}
