using System.Globalization;
using System.Runtime.CompilerServices;

namespace Sidecar.Configuration;

/// <summary>
/// The memory Sidecar really has, read from the GC, and the defaults of the memory-bound limits derived from it. The one
/// home of those rules: a <c>limits</c> key that is set wins, one that is absent takes the value computed here.
/// </summary>
/// <remarks>
/// <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/> is the GC heap's hard limit when one is in force, else the
/// physical memory. Under a container memory limit (cgroup v1 or v2) the runtime sets that hard limit itself, at 75% of
/// the container's limit (a 128 MiB pod gets 96 MiB); <c>GCHeapHardLimit</c> or <c>GCHeapHardLimitPercent</c> set it
/// explicitly. Going past it is fatal ("Insufficient memory to continue the execution of the program"), which is what a
/// burst of buffered uploads did to a 128 MiB pod, so every rule below is a share of it.
/// The container's limit counts what the process holds outside the heap too (<see cref="OutsideHeapBytes"/>), which
/// the GC's 75% does not know about: in a 64 MiB pod the native build reached the limit, and the kernel took its code
/// pages back, with the heap at about 30 of its 48 MiB. So under a container limit the budget is the smaller of the heap
/// limit and what the limit leaves once the outside is paid.
/// </remarks>
internal sealed record MemoryBudget
{
    /// <summary>
    /// Replay buffers may hold a quarter of the heap. The other three quarters are for what every request needs whether
    /// or not it is retried (Kestrel's receive buffers, the copy to the upstream, connection state: see
    /// <see cref="RequestAllowanceBytes"/>) and for the GC's own headroom between collections.
    /// </summary>
    public const int BufferedShareDivisor = 4;

    /// <summary>
    /// The ceiling of the derived <c>max_buffered_bytes</c>, and its default before it was derived: past 64 MiB a
    /// sidecar's memory is better spent on connections than on replay copies.
    /// </summary>
    public const long MaxBufferedBytesCeiling = 64L * 1024 * 1024;

    /// <summary>Requests in flight may use half of the heap, at <see cref="RequestAllowanceBytes"/> each.</summary>
    public const int RequestShareDivisor = 2;

    /// <summary>
    /// What one request in flight may cost: a body up to the default <c>buffer_limit</c> (64 KiB) held three times, in
    /// Kestrel's receive buffers, in the replay copy and in the copy to the upstream, and connection state on both
    /// sides. Measured with 60 KiB POSTs on an upstream that answers after 2 s (tests/bench/memory.sh): 85 KiB per
    /// request in flight with nothing buffered. With every body copied for its retry (tests/bench/pod.sh, burst), a
    /// 128 MiB pod at 128 KiB a request (332 at once) reached <c>reject_requests</c> and held it for 30 s; at 200 or
    /// 221 at once it served all 1,000 requests.
    /// </summary>
    public const long RequestAllowanceBytes = 192 * 1024;

    /// <summary>
    /// What one open connection may hold of request bytes its request has not read yet: Kestrel's
    /// <c>MaxRequestBufferSize</c>, which Sidecar sets to this (Kestrel's default, 1 MiB, let a burst of 2,000 uploads
    /// fill a 64 MiB pod before their requests were even admitted).
    /// </summary>
    public const int ConnectionBufferBytes = 64 * 1024;

    /// <summary>
    /// What the socket transport reads ahead of a plain-text connection's request before it waits for the request to
    /// read on (its pipe's pause threshold). A request waiting for a slot holds this much of its body at most, and the
    /// rest stays in the kernel's socket buffer, outside the GC heap: a 1,000-upload burst in a 128 MiB pod no longer
    /// held 64 KiB for each waiting request. 32 KiB is Kestrel's limit for a request's headers (it consumes them line
    /// by line) and holds a whole HTTP/2 frame (16 KiB), so neither ever waits on a full buffer. TLS connections keep
    /// <see cref="ConnectionBufferBytes"/> for their decrypted bytes, which the derived limits count.
    /// </summary>
    public const int ConnectionReadAheadBytes = 32 * 1024;

    /// <summary>
    /// Receive buffers of pending connections may use a sixteenth of the heap, at <see cref="ConnectionBufferBytes"/> each.
    /// With requests at half of it, a full house (every slot in flight at its allowance, every pending connection holding
    /// its buffer) then stays under the default <c>reject_requests</c> in pods from 128 MiB up. At a quarter it did not:
    /// in a 128 MiB pod (332 pending connections) a burst of 1,000 uploads (tests/bench/pod.sh) reached
    /// <c>reject_requests</c> with the slots full and hundreds of requests waiting for one, whose read-ahead then held
    /// the pressure there with nothing in flight until they were refused: 71% to 97% served in four runs. A pending
    /// connection only waits to be read; the rest of a burst waits in the kernel's accept queue, at no cost to the pod.
    /// </summary>
    public const int ConnectionShareDivisor = 16;

    /// <summary>
    /// What the process holds outside the GC heap once it serves: its code and runtime data, thread stacks, native
    /// buffers. Measured as idle RSS less the heap (tests/bench/pod.sh, RSS idle): the Native AOT build 36 MiB RSS with
    /// a heap of about 4, the JIT build 74 MiB with about 6, since it also holds the JIT, the IL it compiles and the code
    /// it made.
    /// </summary>
    public static long OutsideHeapBytes => RuntimeFeature.IsDynamicCodeSupported ? 68L * 1024 * 1024 : 32L * 1024 * 1024;

    /// <summary>Even the smallest heap the runtime allows (about 20 MiB) serves this many requests at once.</summary>
    public const int MinConcurrentRequests = 32;

    /// <summary>The budget of this process, read once: the GC settles its limits at start and they do not move.</summary>
    public static MemoryBudget Current { get; } = FromGc();

    /// <summary>
    /// Bytes the GC heap may use: <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, or less under a container limit
    /// too small for that and <see cref="OutsideHeapBytes"/> both.
    /// </summary>
    public required long AvailableBytes { get; init; }

    /// <summary>Where <see cref="AvailableBytes"/> comes from, for logs: <c>GC heap limit 96 MiB; memory limit 128 MiB</c>.</summary>
    public required string Source { get; init; }

    /// <summary>Default of <c>limits.max_buffered_bytes</c>: a quarter of the heap, at most 64 MiB.</summary>
    /// <remarks>Rounded down to a whole MiB (KiB below one), so logs and <c>/config</c> print <c>6MiB</c>, not <c>6710886B</c>.</remarks>
    public long MaxBufferedBytes => RoundDown(Math.Min(AvailableBytes / BufferedShareDivisor, MaxBufferedBytesCeiling));

    /// <summary>Default of <c>limits.max_concurrent_requests</c>: half of the heap at 192 KiB a request, at least 32.</summary>
    public int MaxConcurrentRequests =>
        (int)Math.Clamp(AvailableBytes / RequestShareDivisor / RequestAllowanceBytes, MinConcurrentRequests, int.MaxValue);

    /// <summary>Default of <c>limits.max_pending_connections</c>: a sixteenth of the heap at 64 KiB a connection, at least 32.</summary>
    public int MaxPendingConnections =>
        (int)Math.Clamp(AvailableBytes / ConnectionShareDivisor / ConnectionBufferBytes, MinConcurrentRequests, int.MaxValue);

    /// <summary>
    /// True when the memory limit leaves the heap less than the smallest derived limits need
    /// (<see cref="MinConcurrentRequests"/> requests at <see cref="RequestAllowanceBytes"/>, for half of the heap):
    /// the limits stay at their minimum, and a burst may still reach the container's limit. A JIT build in a 64 MiB
    /// pod is one: it holds more than that outside the heap alone.
    /// </summary>
    public bool TooSmall => AvailableBytes < MinConcurrentRequests * RequestAllowanceBytes * RequestShareDivisor;

    /// <summary>How a derived value is labelled in logs, <c>validate</c> and <c>/config</c>: <c>derived from 96 MiB available</c>.</summary>
    public string DerivedLabel => "derived from " + FormatMebibytes(AvailableBytes) + " available";

    /// <summary>A budget for a given size (tests, and <c>validate</c> explaining a pod's numbers).</summary>
    public static MemoryBudget Of(long availableBytes, string source = "given") =>
        new() { AvailableBytes = availableBytes, Source = source };

    /// <summary><c>96 MiB</c>, <c>1.5 GiB</c>: rounded, for people.</summary>
    public static string FormatMebibytes(long bytes) => bytes >= 1L << 30
        ? (bytes / (double)(1L << 30)).ToString("0.#", CultureInfo.InvariantCulture) + " GiB"
        : (bytes / (double)(1L << 20)).ToString("0.#", CultureInfo.InvariantCulture) + " MiB";

    /// <summary>
    /// The budget for a heap limit of <paramref name="heapLimitBytes"/> in a container whose memory limit the GC sees as
    /// <paramref name="memoryLimitBytes"/>, of which it treats <paramref name="highMemoryLoadThresholdBytes"/> as full;
    /// <paramref name="memoryLimitBytes"/> 0 when no heap limit is in force (the heap may use the machine).
    /// </summary>
    internal static MemoryBudget For(long heapLimitBytes, long memoryLimitBytes, long highMemoryLoadThresholdBytes, long outsideHeapBytes)
    {
        if (memoryLimitBytes <= 0)
        {
            return new MemoryBudget { AvailableBytes = heapLimitBytes, Source = "physical memory" };
        }

        var heapLimit = "GC heap limit " + FormatMebibytes(heapLimitBytes) + "; memory limit " + FormatMebibytes(memoryLimitBytes);
        var leftByLimit = highMemoryLoadThresholdBytes - outsideHeapBytes;
        if (leftByLimit >= heapLimitBytes)
        {
            return new MemoryBudget { AvailableBytes = heapLimitBytes, Source = heapLimit };
        }

        // A limit so small that the process barely fits still gets the minimum limits; its pod needs more memory.
        return new MemoryBudget
        {
            AvailableBytes = Math.Max(leftByLimit, 0),
            Source = heapLimit + ", " + FormatMebibytes(outsideHeapBytes) + " of it outside the heap",
        };
    }

    private static MemoryBudget FromGc()
    {
        var info = GC.GetGCMemoryInfo();
        var variables = GC.GetConfigurationVariables();
        if (Number(variables, "GCHeapHardLimit") <= 0)
        {
            return For(info.TotalAvailableMemoryBytes, 0, 0, OutsideHeapBytes);
        }

        // The high-memory-load threshold is GCHighMemPercent (90 by default) of the memory the GC sees: the
        // container's limit when there is one, else the machine's (a heap limit set by hand).
        var highPercent = Number(variables, "GCHighMemPercent") is var p and > 0 and <= 100 ? p : 90;
        var memoryLimit = info.HighMemoryLoadThresholdBytes * 100 / highPercent;
        return For(info.TotalAvailableMemoryBytes, memoryLimit, info.HighMemoryLoadThresholdBytes, OutsideHeapBytes);
    }

    private static long RoundDown(long bytes)
    {
        var unit = bytes >= 1L << 20 ? 1L << 20 : 1L << 10;
        return bytes / unit * unit;
    }

    private static long Number(IReadOnlyDictionary<string, object> variables, string name) =>
        variables.TryGetValue(name, out var value) && value is IConvertible number ? number.ToInt64(CultureInfo.InvariantCulture) : 0;
}
