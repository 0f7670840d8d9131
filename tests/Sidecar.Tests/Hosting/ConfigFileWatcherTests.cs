using System.Runtime.InteropServices;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Hosting;
using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Hosting;

/// <summary>
/// Hot reload on a <see cref="FakeTimeProvider"/>, each poll run by hand (<see cref="ConfigFileWatcher.CheckOnce"/>),
/// against real files: a file written in place must stay the same for the quiet period before it applies, so a
/// two-step write whose first part is valid YAML is never served; a file replaced whole (rename, symlink swap)
/// applies on the second equal read, as fast as ever.
/// </summary>
public sealed class ConfigFileWatcherTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(2);

    private const string Head = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        routes:
          - name: a
            match: { path: "/a/{**rest}" }
            cluster: app

        """;

    private const string RouteB = """
          - name: b
            match: { path: "/b/{**rest}" }
            cluster: app

        """;

    private const string RouteC = """
          - name: c
            match: { path: "/c/{**rest}" }
            cluster: app

        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("sidecar-watch-").FullName;
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<LogLevel> _logs = [];
    private readonly List<string> _messages = [];

    public void Dispose()
    {
        _services.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void CheckOnce_FileWrittenInPlaceInTwoParts_NeverServesTheFirstPart()
    {
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.WriteAllText(path, Head + RouteB);
        var (watcher, store) = Start(path, Head + RouteB);
        Tick(watcher);

        // A writer truncates the file and writes it again in two steps; the first one alone is a valid config
        // (route a only) and sits there for 1.5 s, three polls.
        WriteInPlace(path, Head, truncate: true);
        for (var i = 0; i < 3; i++)
        {
            Tick(watcher);
            Assert.Equal(["a", "b"], Routes(store));
        }

        WriteInPlace(path, RouteB + RouteC, truncate: false);
        for (var elapsed = TimeSpan.Zero; elapsed < QuietPeriod; elapsed += Interval)
        {
            Tick(watcher);
            Assert.Equal(["a", "b"], Routes(store));
        }

        Tick(watcher);
        Assert.Equal(["a", "b", "c"], Routes(store));
    }

    [Fact]
    public void CheckOnce_FileWrittenInPlaceOnce_AppliesAfterTheQuietPeriodNotBefore()
    {
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.WriteAllText(path, Head);
        var (watcher, store) = Start(path, Head);
        Tick(watcher);

        WriteInPlace(path, Head + RouteB, truncate: true);
        for (var elapsed = TimeSpan.Zero; elapsed < QuietPeriod; elapsed += Interval)
        {
            Tick(watcher);
            Assert.Equal(["a"], Routes(store));
        }

        Tick(watcher);
        Assert.Equal(["a", "b"], Routes(store));
    }

    [Fact]
    public void CheckOnce_FileReplacedByRename_AppliesOnTheSecondRead()
    {
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.WriteAllText(path, Head);
        var (watcher, store) = Start(path, Head);
        Tick(watcher);

        var temp = Path.Combine(_directory, ".sidecar.yaml.tmp");
        File.WriteAllText(temp, Head + RouteB);
        File.Move(temp, path, overwrite: true);

        Tick(watcher);
        Assert.Equal(["a"], Routes(store));
        Tick(watcher);
        Assert.Equal(["a", "b"], Routes(store));
    }

    [Fact]
    public void CheckOnce_KubernetesSymlinkSwap_AppliesOnTheSecondRead()
    {
        // The kubelet's layout: sidecar.yaml -> ..data/sidecar.yaml, ..data -> ..v1, swapped by rename(2) to ..v2.
        Directory.CreateDirectory(Path.Combine(_directory, "..v1"));
        File.WriteAllText(Path.Combine(_directory, "..v1", "sidecar.yaml"), Head);
        File.CreateSymbolicLink(Path.Combine(_directory, "..data"), "..v1");
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.CreateSymbolicLink(path, Path.Combine("..data", "sidecar.yaml"));
        var (watcher, store) = Start(path, Head);
        Tick(watcher);

        Directory.CreateDirectory(Path.Combine(_directory, "..v2"));
        File.WriteAllText(Path.Combine(_directory, "..v2", "sidecar.yaml"), Head + RouteB);
        File.CreateSymbolicLink(Path.Combine(_directory, "..data_tmp"), "..v2");
        Assert.Equal(0, Rename(Path.Combine(_directory, "..data_tmp"), Path.Combine(_directory, "..data")));
        Directory.Delete(Path.Combine(_directory, "..v1"), recursive: true);

        Tick(watcher);
        Assert.Equal(["a"], Routes(store));
        Tick(watcher);
        Assert.Equal(["a", "b"], Routes(store));
    }

    [Fact]
    public void CheckOnce_HalfARouteWrittenInPlaceThenFinished_NeitherRejectedNorApplied()
    {
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.WriteAllText(path, Head);
        var (watcher, store) = Start(path, Head);
        Tick(watcher);

        // The first part ends inside route b ("cluster" not written yet): invalid for 1.5 s, then completed.
        WriteInPlace(path, Head + "  - name: b\n    match: { path: \"/b/{**rest}\" }\n", truncate: true);
        for (var i = 0; i < 3; i++)
        {
            Tick(watcher);
        }

        WriteInPlace(path, "    cluster: app\n", truncate: false);
        for (var elapsed = TimeSpan.Zero; elapsed <= QuietPeriod; elapsed += Interval)
        {
            Tick(watcher);
        }

        Assert.Equal(["a", "b"], Routes(store));
        Assert.DoesNotContain(_logs, level => level >= LogLevel.Error);
    }

    [Fact]
    public void CheckOnce_RejectedFileRestoredToTheOneInForce_LoggedAndCountedAsASuccessfulReload()
    {
        var factory = _services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var reloads = new MetricCollector<long>(factory, SidecarMetrics.MeterName, "sidecar.config.reloads");
        using var lastReload = new MetricCollector<int>(factory, SidecarMetrics.MeterName, "sidecar.config.last_reload_successful");
        var path = Path.Combine(_directory, "sidecar.yaml");
        File.WriteAllText(path, Head);
        var (watcher, store) = Start(path, Head);
        Tick(watcher);
        Assert.Equal(1, lastReload.LastMeasurement?.Value);

        ReplaceByRename(path, Head + "polices: {}\n");
        Tick(watcher);
        Tick(watcher);
        Assert.Equal(1, Reloads(reloads, MetricValues.Failure));
        Assert.Equal(0, lastReload.LastMeasurement?.Value);

        ReplaceByRename(path, Head);
        Tick(watcher);

        Assert.Equal(["a"], Routes(store));
        Assert.Equal(1, Reloads(reloads, MetricValues.Success));
        Assert.Equal(1, lastReload.LastMeasurement?.Value);
        Assert.Contains(_messages, message => message.StartsWith($"Restored {path}", StringComparison.Ordinal));

        // Once restored, the same file is no news: no second success, no second line.
        Tick(watcher);
        Assert.Equal(1, Reloads(reloads, MetricValues.Success));
        Assert.Single(_messages, message => message.StartsWith("Restored", StringComparison.Ordinal));
    }

    private static long Reloads(MetricCollector<long> reloads, string result) =>
        reloads.GetMeasurementSnapshot().Where(m => Equals(m.Tags[MetricTags.Result], result)).Sum(m => m.Value);

    private void ReplaceByRename(string path, string text)
    {
        var temp = Path.Combine(_directory, ".sidecar.yaml.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    private (ConfigFileWatcher Watcher, SidecarConfigStore Store) Start(string path, string text)
    {
        var parsed = SidecarConfigLoader.Parse(text, path);
        Assert.True(parsed.Succeeded, string.Join('\n', parsed.Errors));
        var metrics = new SidecarMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var breakers = new CircuitBreakerRegistry(_time);
        var retryLog = new RetryLog(NullLogger<RetryLog>.Instance, breakers, _time);
        var store = new SidecarConfigStore(parsed.Config!, new ClusterRetryStateRegistry(_time), breakers, retryLog, metrics);
        var watcher = new ConfigFileWatcher(path, text, Interval, QuietPeriod, store, metrics, _time, new LevelLogger(_logs, _messages));
        return (watcher, store);
    }

    /// <summary>One poll, then the clock moves on to the next.</summary>
    private void Tick(ConfigFileWatcher watcher)
    {
        watcher.CheckOnce();
        _time.Advance(Interval);
    }

    private static string[] Routes(SidecarConfigStore store) => [.. store.Config.Routes.Select(r => r.Name)];

    /// <summary>Writes into the existing file (same inode), as <c>&gt;</c> and <c>&gt;&gt;</c> in a shell do.</summary>
    private static void WriteInPlace(string path, string text, bool truncate)
    {
        using var stream = new FileStream(path, truncate ? FileMode.Truncate : FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
    }

    // rename(2) replaces the ..data link atomically, as the kubelet's atomic writer does.
    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string oldPath, string newPath);

    /// <summary>Keeps the level of every line the watcher logs.</summary>
    private sealed class LevelLogger(List<LogLevel> levels, List<string> messages) : ILogger<ConfigFileWatcher>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            levels.Add(logLevel);
            messages.Add(formatter(state, exception));
        }
    }
}
