namespace Sidecar.Overload;

/// <summary>The label of each <see cref="OverloadAction"/>, as metrics spell it.</summary>
internal static class OverloadActions
{
    private static readonly string[] Labels = ["body_not_buffered", "request_rejected", "concurrency_limit", "connection_held", "connection_limit", "idle_connection_closed", "request_queued", "body_too_slow"];

    /// <summary>Every label, in the order of <see cref="OverloadAction"/>, so each series can start at 0.</summary>
    public static IReadOnlyList<string> All => Labels;

    public static string Label(this OverloadAction action) => Labels[(int)action];
}
