namespace Sidecar.Policies;

/// <summary>Fixed limits of the retry logic, with the reason for each (the one-day cap on durations is <c>ConfigReader.MaxDuration</c>).</summary>
internal static class RetryConstants
{
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
