namespace Sidecar.Logging;

/// <summary>Logging defaults, each with its reason (one home: README and the chart refer to these).</summary>
internal static class LogConstants
{
    /// <summary>
    /// Sidecar's own lines when the operator sets no level: Information shows start, stop, reloads, state changes and
    /// the periodic summaries, all bounded; per-retry and per-request detail is Debug.
    /// </summary>
    public const LogLevel SidecarLevel = LogLevel.Information;

    /// <summary>
    /// ASP.NET Core's, YARP's and .NET's lines when no <c>Logging__LogLevel__*</c> key names them: their Information
    /// lines are per request or start-up chatter, their warnings are worth reading.
    /// </summary>
    public const LogLevel LibraryLevel = LogLevel.Warning;

    /// <summary>
    /// How often a route that retried, gave up or was refused retries gets a summary line. Ten seconds keeps a storm's
    /// log to one line per busy route per interval (0.1 line/s each) and still shows a change within a scrape
    /// interval or two.
    /// </summary>
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Summary lines per interval that name a route; quieter routes share one extra line. With
    /// <see cref="SummaryInterval"/> that bounds summaries to 2.1 lines/s however many routes the config declares.
    /// </summary>
    public const int MaxRouteSummaries = 20;
}
