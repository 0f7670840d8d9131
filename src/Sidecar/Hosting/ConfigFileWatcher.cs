using Microsoft.Win32.SafeHandles;
using Sidecar.Configuration;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Hosting;

/// <summary>
/// Re-reads the config file when its content changes and applies it to new requests.
/// It polls the content rather than watching file events: Kubernetes updates a mounted ConfigMap by swapping a
/// <c>..data</c> symlink, editors replace files by rename, and network filesystems drop events; comparing the bytes
/// every <see cref="SidecarHostOptions.ReloadInterval"/> catches all of them for the cost of reading a small file.
/// On each tick:
/// 1. Read the file through its path, and keep the file open until the next tick.
/// 2. Unchanged content (applied or already rejected): nothing to do.
/// 3. New content: note when it was first seen and how it arrived. If the file kept open since the last tick has new
///    content too, the file was written in place (same file, not a new one behind the path): such a write may be
///    half done, so the content must stay the same for <see cref="SidecarHostOptions.InPlaceQuietPeriod"/>. A file
///    replaced whole (rename, symlink swap) only has to read the same on the next tick.
/// 4. Settled content is validated: a valid config is applied; an invalid one is logged (once per distinct content)
///    and the last good config keeps serving.
/// </summary>
internal sealed partial class ConfigFileWatcher : BackgroundService
{
    private readonly string _path;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _inPlaceQuietPeriod;
    private readonly SidecarConfigStore _store;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ConfigFileWatcher> _logger;
    private string? _appliedText;
    private string? _rejectedText;
    private string? _pendingText;
    private long _pendingSince;
    private bool _pendingInPlace;
    private SafeFileHandle? _lastFile;
    private byte[]? _lastBytes;

    public ConfigFileWatcher(string path, string? initialText, TimeSpan interval, TimeSpan inPlaceQuietPeriod, SidecarConfigStore store, SidecarMetrics metrics, TimeProvider timeProvider, ILogger<ConfigFileWatcher> logger)
    {
        _path = path;
        _appliedText = initialText;
        _interval = interval;
        _inPlaceQuietPeriod = inPlaceQuietPeriod;
        _store = store;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public override void Dispose()
    {
        _lastFile?.Dispose();
        base.Dispose();
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

    /// <summary>Reads the file once and applies it if its content changed and has settled. Internal for tests.</summary>
    internal void CheckOnce()
    {
        SafeFileHandle file;
        byte[] bytes;
        try
        {
            // FileShare.Delete: keeping the file open must not stop a writer from renaming over it or deleting it.
            file = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            bytes = ReadAll(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Mid-swap (the old target is gone, the new link not yet there) or briefly locked: try again next tick.
            LogReadFailed(_path, ex.Message);
            return;
        }

        var text = Decode(bytes);
        if (_rejectedText is not null && string.Equals(text, _appliedText, StringComparison.Ordinal))
        {
            // The file is back to the configuration that kept serving: nothing to apply, but the rejection is over,
            // and an alert on the failed reload must see it end.
            _rejectedText = null;
            _pendingText = null;
            KeepOpen(file, bytes);
            _metrics.ConfigReloaded(success: true);
            LogRestored(_path);
            return;
        }

        if (string.Equals(text, _appliedText, StringComparison.Ordinal) || string.Equals(text, _rejectedText, StringComparison.Ordinal))
        {
            _pendingText = null;
            KeepOpen(file, bytes);
            return;
        }

        var now = _timeProvider.GetTimestamp();
        if (!string.Equals(text, _pendingText, StringComparison.Ordinal))
        {
            // First sighting: wait for the content to settle, longer when it was written into the same file.
            _pendingText = text;
            _pendingSince = now;
            _pendingInPlace = LastFileChanged();
            KeepOpen(file, bytes);
            return;
        }

        KeepOpen(file, bytes);
        if (_pendingInPlace && _timeProvider.GetElapsedTime(_pendingSince, now) < _inPlaceQuietPeriod)
        {
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

    /// <summary>
    /// Whether the file read on the previous tick (still open) now holds other bytes: the path still names that same
    /// file and it was written in place. A rename or symlink swap leaves the old file as it was. With no previous
    /// read to compare, or when the old file cannot be read, the change is treated as in place: the longer wait only
    /// delays a good file, never applies a half-written one.
    /// </summary>
    private bool LastFileChanged()
    {
        if (_lastFile is null || _lastBytes is null)
        {
            return true;
        }

        try
        {
            return !ReadAll(_lastFile).AsSpan().SequenceEqual(_lastBytes);
        }
        catch (IOException)
        {
            return true;
        }
    }

    private void KeepOpen(SafeFileHandle file, byte[] bytes)
    {
        _lastFile?.Dispose();
        _lastFile = file;
        _lastBytes = bytes;
    }

    private static byte[] ReadAll(SafeFileHandle file)
    {
        var buffer = new byte[RandomAccess.GetLength(file)];
        var read = 0;
        while (read < buffer.Length)
        {
            var n = RandomAccess.Read(file, buffer.AsSpan(read), read);
            if (n == 0)
            {
                // Truncated while being read: what is there is what a second read will be compared with.
                return buffer[..read];
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>As <see cref="File.ReadAllText(string)"/>: UTF-8 unless a byte order mark says otherwise.</summary>
    private static string Decode(byte[] bytes)
    {
        using var reader = new StreamReader(new MemoryStream(bytes), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Reloaded {Path}: {RouteCount} routes now serve new requests")]
    private partial void LogReloaded(string path, int routeCount);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Restored {Path}: the file holds the configuration in force again")]
    private partial void LogRestored(string path);

    [LoggerMessage(EventId = 101, Level = LogLevel.Error, Message = "Rejected the new {Path} ({ErrorCount} errors); the last good configuration keeps serving")]
    private partial void LogReloadRejected(string path, int errorCount);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "{ConfigError}")]
    private partial void LogConfigError(string configError);

    [LoggerMessage(EventId = 103, Level = LogLevel.Debug, Message = "Could not read {Path}: {Reason}")]
    private partial void LogReadFailed(string path, string reason);
}
