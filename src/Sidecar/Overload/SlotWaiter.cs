using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// A request waiting in <see cref="RequestAdmission"/>'s line for a slot: the route whose share it will take, the copy
/// it wants room for, and when its wait ends.
/// </summary>
internal sealed class SlotWaiter
{
    public SlotWaiter(RouteInFlight? route, long copyBytes, long bound, bool isDeadline)
    {
        Route = route;
        CopyBytes = copyBytes;
        Bound = bound;
        IsDeadline = isDeadline;
    }

    public RouteInFlight? Route { get; }

    public long CopyBytes { get; }

    /// <summary>When its wait ends, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long Bound { get; }

    /// <summary>Its bound is its deadline, by which it must have been served, not only let in.</summary>
    public bool IsDeadline { get; }

    /// <summary>What it was let in with, set under the lock as it leaves the line (its wait may end at that moment).</summary>
    public AdmissionEntry Granted { get; set; }

    /// <summary>Completed with the entry it was let in with, or with a default one when it is refused.</summary>
    public TaskCompletionSource<AdmissionEntry> Admitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
