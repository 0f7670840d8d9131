namespace Sidecar.Overload;

/// <summary>
/// Memory pressure as the GC sees it: the larger of
/// 1. the GC heap against its hard limit (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>). Under a container
///    memory limit the runtime caps the heap at 75% of it, and a heap that must grow past the cap ends the process
///    ("Insufficient memory to continue the execution of the program");
/// 2. under a memory limit only, the memory load (the container's memory in use, file cache excluded) against the
///    GC's own high-memory-load threshold, 90% of the limit: native memory and thread stacks count there. Without a
///    limit the load is the whole machine's, which says nothing about this process, so it is left out.
/// </summary>
internal sealed class GcMemoryPressureSource : IMemoryPressureSource
{
    private readonly bool _limited = GC.GetConfigurationVariables().TryGetValue("GCHeapHardLimit", out var limit)
        && limit is IConvertible number && number.ToUInt64(System.Globalization.CultureInfo.InvariantCulture) > 0;

    public MemoryPressure Sample()
    {
        var info = GC.GetGCMemoryInfo();
        // The heap after the last collection, or now if more is held than that; garbage allocated since the last
        // collection is at most one gen0 budget and is what the next collection frees.
        var heap = new MemoryPressure(Math.Max(info.HeapSizeBytes, GC.GetTotalMemory(forceFullCollection: false)), info.TotalAvailableMemoryBytes);
        if (!_limited)
        {
            return heap;
        }

        var load = new MemoryPressure(info.MemoryLoadBytes, info.HighMemoryLoadThresholdBytes);
        return load.Ratio > heap.Ratio ? load : heap;
    }
}
