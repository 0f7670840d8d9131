namespace Sidecar.Logging;

/// <summary>
/// The level names an operator writes in <c>--log-level</c>, <c>SIDECAR_LOG_LEVEL</c> and <c>Logging__LogLevel__*</c>:
/// .NET's <see cref="LogLevel"/> names, case-insensitive.
/// </summary>
internal static class LogLevelNames
{
    /// <summary>The accepted names, for error messages and help text.</summary>
    public const string Accepted = "trace, debug, information, warning, error, critical or none";

    public static bool TryParse(string? text, out LogLevel level)
    {
        level = (text ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "trace" => LogLevel.Trace,
            "debug" => LogLevel.Debug,
            "information" => LogLevel.Information,
            "warning" => LogLevel.Warning,
            "error" => LogLevel.Error,
            "critical" => LogLevel.Critical,
            "none" => LogLevel.None,
            _ => (LogLevel)(-1),
        };
        return level >= LogLevel.Trace;
    }

    /// <summary>
    /// A <c>Logging:…:LogLevel:…</c> configuration value as .NET reads it: a name, or the level's number (0 = trace
    /// .. 6 = none). Anything else would make .NET throw on the first log line, so it is reported at start instead.
    /// </summary>
    public static bool TryParseConfigurationValue(string? text, out LogLevel level)
    {
        if (TryParse(text, out level))
        {
            return true;
        }

        if (text?.Trim() is [var digit] && digit is >= '0' and <= '6')
        {
            level = (LogLevel)(digit - '0');
            return true;
        }

        return false;
    }

    public static string Describe(string? text) => $"'{text}' is not a log level: use {Accepted}";
}
