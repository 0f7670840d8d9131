using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Testing;
using Sidecar.Configuration;
using Sidecar.Hosting;

namespace Sidecar.FunctionalTests.Hosting;

public sealed class SidecarHostStartTests
{
    [Fact]
    public async Task StartAsync_ProxyPortTaken_LogsTheStackTraceAtDebugOnly()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var parsed = SidecarConfigLoader.Parse($$"""
            listen: { proxy: "http://127.0.0.1:{{port}}", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [http://127.0.0.1:1] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
            """, "sidecar.yaml");
        var logs = new FakeLogCollector();

        var error = await Assert.ThrowsAsync<IOException>(() => SidecarHost.StartAsync(parsed.Config!, new SidecarHostOptions
        {
            LogLevel = LogLevel.Debug,
            ConfigureLogging = logging => logging.AddProvider(new FakeLoggerProvider(logs)),
        }));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        // The caller (sidecar run) prints the one clean line; nothing above Debug carries the exception.
        Assert.DoesNotContain(logs.GetSnapshot(), l => l.Level > LogLevel.Debug && l.Exception is not null);
        var debug = Assert.Single(logs.GetSnapshot(), l => l.Level == LogLevel.Debug && l.Exception is IOException);
        Assert.StartsWith("Sidecar", debug.Category, StringComparison.Ordinal);
    }
}
