namespace Sidecar.Policies;

/// <summary>Fixed limits of the retry logic, with the reason for each.</summary>
internal static class RetryConstants
{
    /// <summary>
    /// The longest duration any header (<c>Retry-After</c>, pushback, caller deadline) is read as; longer
    /// values, including ones that would overflow, are capped here. A day is far beyond any deadline or
    /// <c>retry_after.max</c> a policy can sensibly have, so capping never changes a decision ("wait longer
    /// than allowed" stays "longer than allowed"), and it stays well within <see cref="CancellationTokenSource.CancelAfter(TimeSpan)"/>'s range.
    /// </summary>
    public static readonly TimeSpan MaxHeaderDuration = TimeSpan.FromDays(1);

    /// <summary>
    /// Into how many shares <c>limits.max_waiting_retries</c> is split at most; one cluster holds at most one share
    /// (with fewer clusters, one share each). So a configuration of up to four clusters guarantees each its equal
    /// part of the backoff slots whatever the others do, and with more clusters, three parked on long waits still
    /// leave a quarter of the slots to the rest, while a lone busy cluster can use a quarter or more.
    /// </summary>
    public const int MaxWaitingRetryShares = 4;

    /// <summary>Longest retry-budget window; the budget keeps one bucket per second for this long.</summary>
    public const int MaxBudgetWindowSeconds = 60;
}
