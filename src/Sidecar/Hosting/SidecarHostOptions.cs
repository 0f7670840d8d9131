namespace Sidecar.Hosting;

/// <summary>How a <see cref="SidecarHost"/> is started: by the CLI, the demo, or a test.</summary>
internal sealed record SidecarHostOptions
{
    /// <summary>The file to watch for hot reload; <c>null</c> for a config that did not come from a file.</summary>
    public string? ConfigPath { get; init; }

    /// <summary>The text the initial config was parsed from, so the first poll does not re-apply it.</summary>
    public string? ConfigText { get; init; }

    /// <summary>How often the config file is checked for changes. Default 500ms: a change applies after two equal reads, within 1s.</summary>
    public TimeSpan ReloadInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Log as JSON lines instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>Lowest level logged for Sidecar's own categories. Default Information.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Extra logging setup (tests capture logs here).</summary>
    public Action<ILoggingBuilder>? ConfigureLogging { get; init; }

    /// <summary>Time source; tests may replace it.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
