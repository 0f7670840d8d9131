namespace Sidecar.Hosting;

/// <summary>How a <see cref="SidecarHost"/> is started: by the CLI, the demo, or a test.</summary>
internal sealed record SidecarHostOptions
{
    /// <summary>The file to watch for hot reload; <c>null</c> for a config that did not come from a file.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The text the initial config was parsed from, so the first poll does not re-apply it.</summary>
    public string? ConfigText { get; init; }

    /// <summary>
    /// How often the config file is checked for changes. Default 500ms: a file replaced whole (rename, symlink swap)
    /// applies after two equal reads, within 1s.
    /// </summary>
    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often certificate files (<c>tls</c> of clusters, <c>listen.tls</c>) are read for a rotation. Default 2s.</summary>
    public TimeSpan CertificateReloadInterval { get; init; } = Sidecar.Configuration.ConfigDefaults.TlsReloadInterval;

    /// <summary>
    /// How long new content written into the config file in place (the same file, not a new one renamed over it) must
    /// stay unchanged before it is applied. Default 2s: a writer that pauses for less between two parts of a write is
    /// never caught half done, where a 500ms-apart pair of equal reads would take a valid first part.
    /// </summary>
    public TimeSpan InPlaceQuietPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Log as JSON lines instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>
    /// The operator's level (<c>--log-level</c> or <c>SIDECAR_LOG_LEVEL</c>) for Sidecar's own categories, also the
    /// floor for other libraries when above Warning. <c>null</c> (default): from the host's configuration
    /// (<c>Logging__LogLevel__Sidecar</c>, <c>Logging__LogLevel__Default</c>), else Information (see <see cref="Logging.SidecarLogging"/>).
    /// </summary>
    public LogLevel? LogLevel { get; init; }

    /// <summary>How often retry activity is summarized in the log. Default <see cref="Logging.LogConstants.SummaryInterval"/> (10s).</summary>
    public TimeSpan LogSummaryInterval { get; init; } = Logging.LogConstants.SummaryInterval;

    /// <summary>Extra logging setup (tests capture logs here).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Last changes to the proxy's services before it is built (tests replace the memory-pressure source here).</summary>
    public Action<IServiceCollection>? ConfigureServices { get; init; }

    /// <summary>Time source; tests may replace it.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
