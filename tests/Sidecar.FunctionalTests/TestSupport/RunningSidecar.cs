using Microsoft.Extensions.Logging.Testing;
using Sidecar.Configuration;
using Sidecar.Hosting;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// The real Sidecar (the same <see cref="SidecarHost"/> the CLI runs) started from a YAML file in a temp folder, with
/// proxy and admin on 127.0.0.1 port 0. <c>{upstream}</c>-style placeholders are replaced by the caller beforehand.
/// </summary>
public sealed class RunningSidecar : IAsyncDisposable
{
    private readonly SidecarHost _host;

    private RunningSidecar(SidecarHost host, string configPath, string yaml, FakeLogCollector logs)
    {
        Yaml = yaml;
        _host = host;
        ConfigPath = configPath;
        Logs = logs;
        Proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = host.ProxyAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        Admin = new HttpClient { BaseAddress = host.AdminAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    public string ConfigPath { get; }

    /// <summary>The YAML as written to <see cref="ConfigPath"/> (with its listen section).</summary>
    public string Yaml { get; }

    /// <summary>Every log record Sidecar wrote, for asserting on what an operator would read.</summary>
    public FakeLogCollector Logs { get; }

    public Uri ProxyAddress => _host.ProxyAddress;

    internal SidecarHost Host => _host;

    /// <summary>Writes <paramref name="yaml"/> (listen section added when absent) and starts Sidecar on it.</summary>
    /// <param name="yaml">The config.</param>
    /// <param name="reloadInterval">How often the config file is polled; 200 ms by default.</param>
    /// <param name="timeProvider">Sidecar's clock; the system clock by default.</param>
    /// <param name="configureServices">Replaces proxy services before start (e.g. the memory-pressure source).</param>
    public static async Task<RunningSidecar> StartAsync(string yaml, TimeSpan? reloadInterval = null, TimeProvider? timeProvider = null, Action<IServiceCollection>? configureServices = null)
    {
        if (!yaml.Contains("listen:", StringComparison.Ordinal))
        {
            yaml = "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n" + yaml;
        }

        var directory = Directory.CreateTempSubdirectory("sidecar-test-");
        var path = Path.Combine(directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        var result = SidecarConfigLoader.LoadFile(path);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException("Test config is invalid:\n" + string.Join('\n', result.Errors));
        }

        var logs = new FakeLogCollector();
        var host = await SidecarHost.StartAsync(result.Config!, new SidecarHostOptions
        {
            ConfigPath = path,
            ConfigText = yaml,
            ReloadInterval = reloadInterval ?? TimeSpan.FromMilliseconds(200),
            // Tests read every line Sidecar writes, the per-retry Debug detail included.
            LogLevel = LogLevel.Debug,
            ConfigureLogging = logging => logging.AddProvider(new FakeLoggerProvider(logs)),
            TimeProvider = timeProvider ?? TimeProvider.System,
            ConfigureServices = configureServices,
        });
        return new RunningSidecar(host, path, yaml, logs);
    }

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        await _host.DisposeAsync();
        try
        {
            Directory.Delete(Path.GetDirectoryName(ConfigPath)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
