namespace Sidecar.Telemetry;

/// <summary>Why a wanted retry did not happen: the <c>reason</c> label of <c>sidecar_retries_skipped_total</c>.</summary>
internal static class RetrySkipReason
{
    public const string Budget = "budget";
    public const string Concurrency = "concurrency";
    public const string BackoffCap = "backoff_cap";
    public const string BodyNotReplayable = "body_not_replayable";
    public const string Deadline = "deadline";
    public const string Method = "method";
    public const string Pushback = "pushback";

    /// <summary>The body was forwarded without a replay copy because memory pressure was high.</summary>
    public const string Overloaded = "overloaded";
}
