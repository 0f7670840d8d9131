namespace Sidecar.Logging;

/// <summary>
/// The bounded lines of retry activity, category <c>Sidecar.Logging.RetryLog</c>: state changes of a cluster and the
/// periodic summary per route. Field names are part of the JSON log format (README, "Logs"): keep them stable.
/// </summary>
internal static partial class RetryLogMessages
{
    [LoggerMessage(EventId = 202, Level = LogLevel.Warning, Message = "Circuit opened for cluster {Cluster} destination {Destination}: no requests there for {BreakDuration}")]
    public static partial void CircuitOpened(ILogger logger, string cluster, string destination, TimeSpan breakDuration);

    [LoggerMessage(EventId = 203, Level = LogLevel.Debug, Message = "Circuit opened again for cluster {Cluster} destination {Destination}: no requests there for {BreakDuration}")]
    public static partial void CircuitOpenedAgain(ILogger logger, string cluster, string destination, TimeSpan breakDuration);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "Circuit closed for cluster {Cluster} destination {Destination}: requests go there again")]
    public static partial void CircuitClosed(ILogger logger, string cluster, string destination);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Retry budget of cluster {Cluster} exhausted: retries are refused until they fall back under the budget")]
    public static partial void BudgetExhausted(ILogger logger, string cluster);

    [LoggerMessage(EventId = 206, Level = LogLevel.Information, Message = "Retry budget of cluster {Cluster} available again after {DurationSeconds}s; {BudgetRefused} retries were refused")]
    public static partial void BudgetRecovered(ILogger logger, string cluster, double durationSeconds, long budgetRefused);

    [LoggerMessage(EventId = 210, Message = "Route {Route} (cluster {Cluster}), last {IntervalSeconds}s: {Retries} retries ({RetryReasons}), {Exhausted} exhausted, {NoResponse} without upstream response, {BudgetRefused} retries refused by the budget, {Skipped} skipped ({SkipReasons})")]
    public static partial void RouteSummary(ILogger logger, LogLevel level, string route, string cluster, double intervalSeconds, long retries, string retryReasons, long exhausted, long noResponse, long budgetRefused, long skipped, string skipReasons);

    [LoggerMessage(EventId = 211, Message = "{RouteCount} more routes, last {IntervalSeconds}s: {Retries} retries, {Exhausted} exhausted, {NoResponse} without upstream response, {BudgetRefused} retries refused by the budget, {Skipped} skipped")]
    public static partial void OtherRoutesSummary(ILogger logger, LogLevel level, int routeCount, double intervalSeconds, long retries, long exhausted, long noResponse, long budgetRefused, long skipped);
}
