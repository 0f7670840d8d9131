namespace Sidecar.Logging;

/// <summary>
/// Sets up the console log of both hosts and decides the levels. Sidecar's own categories log at the first of:
/// <list type="number">
/// <item><c>--log-level</c> (the operator's level),</item>
/// <item><c>SIDECAR_LOG_LEVEL</c> (read by the CLI into the same option),</item>
/// <item><c>Logging__LogLevel__Sidecar</c>, then <c>Logging__LogLevel__Default</c> (the host's configuration:
/// environment variables, <c>DOTNET_</c>/<c>ASPNETCORE_</c>-prefixed ones, an optional appsettings.json),</item>
/// <item><see cref="LogConstants.SidecarLevel"/>.</item>
/// </list>
/// Other categories (ASP.NET Core, YARP, .NET) follow the standard <c>Logging__LogLevel__*</c> keys, else
/// <see cref="LogConstants.LibraryLevel"/>; an operator level above that (error, critical, none) quiets them too.
/// A key naming a longer category than the level it overrides (<c>Logging__LogLevel__Sidecar.Logging.RetryLog</c>)
/// keeps its standard .NET meaning: the longest matching category wins.
/// </summary>
internal static class SidecarLogging
{
    /// <summary>The environment variable the CLI reads when <c>--log-level</c> is not given.</summary>
    public const string LevelVariable = "SIDECAR_LOG_LEVEL";

    /// <summary>The prefix of every Sidecar category (the namespace).</summary>
    public const string SidecarCategory = "Sidecar";

    private const string LoggingSection = "Logging";
    private const string LogLevelSection = "LogLevel";
    private const string DefaultCategory = "Default";

    /// <summary>Categories whose level differs from the library default unless the configuration names them, with why.</summary>
    private static readonly (string Category, LogLevel Level)[] BuiltInLevels =
    [
        // YARP logs every failed attempt at Warning with a stack trace; a retry that then succeeds must not flood the
        // log, so its forwarder category is raised and Sidecar counts retries and failures itself.
        ("Yarp.ReverseProxy.Forwarder.HttpForwarder", LogLevel.Error),

        // The generic host logs a failed start ("Hosting failed to start", e.g. a port in use) at Error with the whole
        // stack trace, just before the exception reaches SidecarHost.StartAsync, which logs it at Debug while the CLI
        // prints one line. A background service that faults is still logged, at Critical with its exception.
        ("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical),

        // ASP.NET Core starts an Activity for every request while this category logs at any level, only to scope its
        // "Request starting/finished" lines, which are Information anyway. Off, a request costs no Activity unless a
        // tracer listens (OTLP export samples "Microsoft.AspNetCore", which starts them again).
        ("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None),
    ];

    /// <summary>Configures providers and levels; throws <see cref="LoggingConfigurationException"/> for a bad level in the configuration.</summary>
    public static void Configure(ILoggingBuilder logging, IConfiguration configuration, LogLevel? operatorLevel, bool jsonLogs, Action<ILoggingBuilder>? configureLogging)
    {
        var errors = Validate(configuration);
        if (errors.Count > 0)
        {
            throw new LoggingConfigurationException(errors);
        }

        logging.ClearProviders();
        if (jsonLogs)
        {
            // The format says Z (UTC), so the time must be UTC whatever TZ the container sets.
            logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss.fff ";
            });
        }

        // The configuration's own rules (Logging:LogLevel:*) were registered by the host builder before these, so a
        // rule added here wins over one of theirs for the same category: built-in levels are only added for
        // categories the configuration does not name.
        var floor = operatorLevel is { } requested && requested > LogConstants.LibraryLevel ? requested : LogConstants.LibraryLevel;
        logging.SetMinimumLevel(floor);
        if (floor > LogConstants.LibraryLevel)
        {
            logging.AddFilter((string?)null, floor);
        }

        logging.AddFilter(SidecarCategory, SidecarLevel(operatorLevel, configuration));
        foreach (var (category, level) in BuiltInLevels)
        {
            if (configuration[ConfigurationPath.Combine(LoggingSection, LogLevelSection, category)] is null)
            {
                logging.AddFilter(category, level > floor ? level : floor);
            }
        }

        configureLogging?.Invoke(logging);
    }

    /// <summary>The level of Sidecar's own categories (see the class summary for the order).</summary>
    public static LogLevel SidecarLevel(LogLevel? operatorLevel, IConfiguration configuration)
    {
        if (operatorLevel is { } level)
        {
            return level;
        }

        foreach (var category in (ReadOnlySpan<string>)[SidecarCategory, DefaultCategory])
        {
            if (LogLevelNames.TryParseConfigurationValue(configuration[ConfigurationPath.Combine(LoggingSection, LogLevelSection, category)], out var configured))
            {
                return configured;
            }
        }

        return LogConstants.SidecarLevel;
    }

    /// <summary>
    /// Every <c>Logging:LogLevel:*</c> and <c>Logging:{provider}:LogLevel:*</c> value that is not a level, as
    /// "<c>Logging:LogLevel:Default (Logging__LogLevel__Default): 'verbose' is not a log level: use …</c>".
    /// </summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        var errors = new List<string>();
        foreach (var (key, value) in configuration.GetSection(LoggingSection).AsEnumerable())
        {
            if (string.IsNullOrEmpty(value) || !IsLevelKey(key) || LogLevelNames.TryParseConfigurationValue(value, out _))
            {
                continue;
            }

            errors.Add($"{key} ({key.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal)}): {LogLevelNames.Describe(value)}");
        }

        errors.Sort(StringComparer.Ordinal);
        return errors;
    }

    // Logging:LogLevel:<category> or Logging:<provider>:LogLevel:<category>, the two shapes .NET reads.
    private static bool IsLevelKey(string key)
    {
        var parts = key.Split(ConfigurationPath.KeyDelimiter);
        return parts.Length is 3 or 4 && string.Equals(parts[^2], LogLevelSection, StringComparison.OrdinalIgnoreCase);
    }
}
