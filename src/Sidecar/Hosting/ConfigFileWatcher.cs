using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Hosting;

/// <summary>
/// Re-reads the config file when its content changes and applies it to new requests.
/// It polls the content rather than watching file events: Kubernetes updates a mounted ConfigMap by swapping a
/// <c>..data</c> symlink, editors replace files by rename, and network filesystems drop events; comparing the bytes
/// every <see cref="SidecarHostOptions.ReloadInterval"/> catches all of them for the cost of reading a small file.
/// New content is acted on once it reads the same on two consecutive ticks, so a file caught half-written by a
/// non-atomic writer is neither applied truncated nor reported as broken. A file that fails validation is logged (once per distinct content) and the last good config keeps serving.
/// </summary>
internal sealed partial class ConfigFileWatcher : BackgroundService
{
    private readonly string _path;
    private readonly TimeSpan _interval;
    private readonly SidecarConfigStore _store;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ConfigFileWatcher> _logger;
    private string? _appliedText;
    private string? _rejectedText;
    private string? _pendingText;

    public ConfigFileWatcher(string path, string? initialText, TimeSpan interval, SidecarConfigStore store, SidecarMetrics metrics, TimeProvider timeProvider, ILogger<ConfigFileWatcher> logger)
    {
        _path = path;
        _appliedText = initialText;
        _interval = interval;
        _store = store;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                CheckOnce();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads the file once and applies it if its content changed. Internal for tests.</summary>
    internal void CheckOnce()
    {
        string text;
        try
        {
            text = File.ReadAllText(_path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Mid-swap (the old target is gone, the new link not yet there) or briefly locked: try again next tick.
            LogReadFailed(_path, ex.Message);
            return;
        }

        if (string.Equals(text, _appliedText, StringComparison.Ordinal) || string.Equals(text, _rejectedText, StringComparison.Ordinal))
        {
            _pendingText = null;
            return;
        }

        if (!string.Equals(text, _pendingText, StringComparison.Ordinal))
        {
            // First sighting: wait one tick for the content to settle.
            _pendingText = text;
            return;
        }

        _pendingText = null;

        var result = SidecarConfigLoader.Parse(text, _path);
        if (!result.Succeeded)
        {
            _rejectedText = text;
            _metrics.ConfigReloaded(success: false);
            LogReloadRejected(_path, result.Errors.Count);
            foreach (var error in result.Errors)
            {
                LogConfigError(error.ToString());
            }

            return;
        }

        _store.Apply(result.Config!);
        _appliedText = text;
        _rejectedText = null;
        _metrics.ConfigReloaded(success: true);
        LogReloaded(_path, result.Config!.Routes.Count);
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Reloaded {Path}: {RouteCount} routes now serve new requests")]
    private partial void LogReloaded(string path, int routeCount);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Rejected the new {Path} ({ErrorCount} errors); the last good configuration keeps serving")]
    private partial void LogReloadRejected(string path, int errorCount);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "{ConfigError}")]
    private partial void LogConfigError(string configError);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Could not read {Path}: {Reason}")]
    private partial void LogReadFailed(string path, string reason);
}
