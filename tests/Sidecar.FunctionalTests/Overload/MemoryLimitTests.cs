using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Overload;

/// <summary>
/// The real executable under a GC heap limit (as a 128 MiB pod gets: 75% of it, 96 MiB): the limits the config leaves
/// out are derived from it, and <c>validate</c>, the startup log and <c>/config</c> say so.
/// </summary>
public sealed class MemoryLimitTests
{
    // DOTNET_GCHeapHardLimit is hexadecimal: 0x6000000 bytes = 96 MiB, what the runtime gives a 128 MiB container.
    private static readonly Dictionary<string, string> PodHeap = new() { ["DOTNET_GCHeapHardLimit"] = "6000000" };

    private const string Yaml = """
        listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
        clusters:
          app: { destinations: [http://127.0.0.1:1] }
        routes:
          - { name: r, cluster: app }
        limits:
          max_waiting_retries: 10
          drain_delay: 0s
        """;

    [Fact]
    public async Task Validate_UnderA96MiBHeapLimit_PrintsDerivedLimitsAndTheirOrigin()
    {
        var path = await WriteTempAsync(Yaml);

        using var process = SidecarProcess.Start(PodHeap, "validate", "--config", path);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var stdout = string.Join('\n', process.Output);
        Assert.Equal(0, code);
        Assert.Contains("limits (memory available: 96 MiB, GC heap limit", stdout, StringComparison.Ordinal);
        Assert.Contains("max_buffered_bytes 24MiB (derived from 96 MiB available)", stdout, StringComparison.Ordinal);
        Assert.Contains("max_concurrent_requests 256 (derived from 96 MiB available)", stdout, StringComparison.Ordinal);
        Assert.Contains("max_pending_connections 96 (derived from 96 MiB available)", stdout, StringComparison.Ordinal);
        Assert.Contains("max_waiting_retries 10", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_UnderA96MiBHeapLimit_LogsAndServesTheDerivedLimits()
    {
        var path = await WriteTempAsync(Yaml + "\n  max_buffered_bytes: 8MiB\n");

        using var process = SidecarProcess.Start(PodHeap, "run", "--config", path);
        var (_, admin) = await process.WaitUntilListeningAsync(TimeSpan.FromSeconds(30));
        using var client = new HttpClient { BaseAddress = admin };
        using var config = JsonDocument.Parse(await client.GetStringAsync("/config"));
        process.Signal(15);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));

        var limits = config.RootElement.GetProperty("limits");
        Assert.Equal("8MiB", limits.GetProperty("max_buffered_bytes").GetString());
        Assert.Equal("config", limits.GetProperty("origin").GetProperty("max_buffered_bytes").GetString());
        Assert.Equal(256, limits.GetProperty("max_concurrent_requests").GetInt32());
        Assert.Equal("derived from 96 MiB available", limits.GetProperty("origin").GetProperty("max_concurrent_requests").GetString());
        Assert.Equal(96, limits.GetProperty("max_pending_connections").GetInt32());
        Assert.Equal(96L << 20, limits.GetProperty("memory").GetProperty("available_bytes").GetInt64());
        Assert.Contains(
            process.Output,
            line => line.Contains("Limits: max_buffered_bytes 8MiB (config), max_concurrent_requests 256 (derived from 96 MiB available), max_pending_connections 96 (derived from 96 MiB available); memory available 96 MiB", StringComparison.Ordinal));
    }

    private static async Task<string> WriteTempAsync(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sidecar-memory-").FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
