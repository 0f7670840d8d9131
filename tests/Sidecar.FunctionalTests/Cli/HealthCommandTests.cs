using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Cli;

/// <summary>
/// <c>sidecar health</c>, the image's HEALTHCHECK, against a real Sidecar process: it finds the admin port through the
/// same config resolution as <c>run</c> and reports readiness, not mere liveness.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class HealthCommandTests : IDisposable
{
    private const int SigTerm = 15;

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("sidecar-health-");

    public void Dispose() => _directory.Delete(recursive: true);

    [Fact]
    public async Task Health_SidecarReadyConfigFromEnvironment_ExitsZeroWithOneLine()
    {
        var admin = FreePort.Get();
        var config = await WriteConfigAsync(admin, drainDelay: "0s");
        using var sidecar = SidecarProcess.Start("run", "--config", config);
        await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));

        // No --config: SIDECAR_CONFIG names the file, as in the image.
        var (code, stdout, stderr) = await RunHealthAsync(new Dictionary<string, string> { ["SIDECAR_CONFIG"] = config });

        Assert.True(code == 0, stderr);
        Assert.Equal($"sidecar health: http://127.0.0.1:{admin}/readyz 200 ready", stdout.Trim());
        Assert.Empty(stderr);

        sidecar.Signal(SigTerm);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Health_NothingListening_ExitsOneWithOneLine()
    {
        var admin = FreePort.Get();
        var config = await WriteConfigAsync(admin, drainDelay: "0s");

        var (code, stdout, stderr) = await RunHealthAsync(null, "--config", config);

        Assert.Equal(1, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"sidecar health: http://127.0.0.1:{admin}/readyz unreachable: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_SidecarDraining_ExitsOneAlthoughLive()
    {
        var admin = FreePort.Get();
        var config = await WriteConfigAsync(admin, drainDelay: "30s");
        using var sidecar = SidecarProcess.Start("run", "--config", config);
        await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));

        sidecar.Signal(SigTerm);
        await Eventually.ReturnsAsync(
            () => Task.FromResult(sidecar.Output.Any(line => line.Contains("Draining:", StringComparison.Ordinal))),
            draining => draining,
            TimeSpan.FromSeconds(20),
            "sidecar logs that it drains");
        var (code, _, stderr) = await RunHealthAsync(null, "--config", config);

        Assert.Equal(1, code);
        Assert.Equal($"sidecar health: http://127.0.0.1:{admin}/readyz 503 draining", stderr.Trim());
    }

    [Fact]
    public async Task Health_AdminPortZero_ExitsOneSayingThereIsNoPortToAsk()
    {
        var config = await WriteConfigAsync(0, drainDelay: "0s");

        var (code, _, stderr) = await RunHealthAsync(null, "--config", config);

        Assert.Equal(1, code);
        Assert.Equal("sidecar health: admin http://127.0.0.1:0 has no fixed port to ask", stderr.Trim());
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunHealthAsync(IReadOnlyDictionary<string, string>? environment, params string[] options)
    {
        using var health = SidecarProcess.Start(environment, ["health", .. options]);
        var code = await health.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, string.Join('\n', health.Output), string.Join('\n', health.Errors));
    }

    private async Task<string> WriteConfigAsync(int adminPort, string drainDelay)
    {
        var path = Path.Combine(_directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:{{adminPort}}" }
            clusters:
              app: { destinations: ["http://127.0.0.1:9"] }
            routes:
              - { name: all, cluster: app }
            limits: { drain_delay: {{drainDelay}}, drain_timeout: 1s }
            """);
        return path;
    }
}
