namespace Sidecar.Logging;

/// <summary>One route's counts over one summary interval: the fields of the summary line (README, "Logs").</summary>
/// <param name="Route">The route's name from the config.</param>
/// <param name="Cluster">The route's cluster.</param>
/// <param name="Interval">The time the counts cover (the summary interval; shorter for the last one at shutdown).</param>
/// <param name="Retries">Retries made.</param>
/// <param name="RetryReasons"><c>reason=count</c> pairs joined by commas (<c>503=118,reset=2</c>), or <see cref="NoReasons"/>.</param>
/// <param name="Exhausted">Requests that used up their attempts and got the last failure.</param>
/// <param name="BudgetRefused">Retries the cluster's retry budget refused.</param>
/// <param name="Skipped">Retries not made for another reason (concurrency, backoff_cap, deadline, method, ...).</param>
/// <param name="SkipReasons"><c>reason=count</c> pairs of <paramref name="Skipped"/>, or <see cref="NoReasons"/>.</param>
/// <param name="NoResponse">Requests Sidecar answered itself (502/503/504) because no attempt got a usable response.</param>
internal sealed record RouteLogSummary(
    string Route,
    string Cluster,
    TimeSpan Interval,
    long Retries,
    string RetryReasons,
    long Exhausted,
    long BudgetRefused,
    long Skipped,
    string SkipReasons,
    long NoResponse)
{
    /// <summary>The reasons field when there were none.</summary>
    public const string NoReasons = "none";

    /// <summary>Requests that failed despite retrying: the summary is a warning when there are any.</summary>
    public long Failed => Exhausted + NoResponse;

    /// <summary>Every event counted, to pick the busiest routes.</summary>
    public long Events => Retries + Exhausted + BudgetRefused + Skipped + NoResponse;
}
