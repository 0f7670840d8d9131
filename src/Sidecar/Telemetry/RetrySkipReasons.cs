namespace Sidecar.Telemetry;

/// <summary>The label of each <see cref="RetrySkipReason"/>, as metrics and log summaries spell it.</summary>
internal static class RetrySkipReasons
{
    private static readonly string[] Labels =
        ["budget", "concurrency", "backoff_cap", "body_not_replayable", "deadline", "method", "pushback", "overloaded"];

    /// <summary>Every label, in the order of <see cref="RetrySkipReason"/>.</summary>
    public static IReadOnlyList<string> All => Labels;

    public static string Label(this RetrySkipReason reason) => Labels[(int)reason];
}
