using System.Text.RegularExpressions;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Hosting;

/// <summary>
/// A clean start and stop of the real process logs nothing at Warning or above, on a laptop and in a container alike:
/// a container's user may have no HOME, and the .NET base images set ASPNETCORE_HTTP_PORTS (Sidecar binds what its
/// config says) and DOTNET_RUNNING_IN_CONTAINER. Every new pod greeting its operator with a warning teaches them to
/// ignore warnings.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed partial class CleanStartTests
{
    /// <summary>The environment of mcr.microsoft.com/dotnet/runtime-deps images (and the check's stand-in for them).</summary>
    private static readonly Dictionary<string, string> ContainerEnvironment = new()
    {
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
        ["DOTNET_SYSTEM_GLOBALIZATION_INVARIANT"] = "true",
    };

    [Fact]
    public async Task Run_CleanStartWithoutHomeAsInAContainer_LogsNothingAtWarningOrAboveAndTheSameLinesAsOnALaptop()
    {
        var laptop = await StartAndStopAsync(environment: null, unset: []);
        var container = await StartAndStopAsync(ContainerEnvironment, unset: ["HOME"]);

        Assert.Empty(container.Errors);
        Assert.DoesNotContain(container.Output, line => WarningOrAbove().IsMatch(line));
        Assert.Empty(laptop.Errors);
        Assert.DoesNotContain(laptop.Output, line => WarningOrAbove().IsMatch(line));
        Assert.Equal(Events(laptop.Output), Events(container.Output));
    }

    private static async Task<(IReadOnlyList<string> Output, IReadOnlyList<string> Errors)> StartAndStopAsync(IReadOnlyDictionary<string, string>? environment, IReadOnlyCollection<string> unset)
    {
        var directory = Directory.CreateTempSubdirectory("sidecar-clean-");
        try
        {
            var config = Path.Combine(directory.FullName, "sidecar.yaml");
            await File.WriteAllTextAsync(config, """
                listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
                clusters:
                  app: { destinations: ["http://127.0.0.1:9"] }
                routes:
                  - { name: all, cluster: app }
                limits: { drain_delay: 0s, drain_timeout: 1s }
                """);
            using var sidecar = SidecarProcess.StartIn(directory.FullName, environment, unset, "run", "--config", config);
            await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
            return (sidecar.Output.ToList(), sidecar.Errors.ToList());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>"info: Sidecar.Hosting.SidecarHost[1]" and the like: each distinct one, sorted, without timestamps or values.</summary>
    private static List<string> Events(IEnumerable<string> lines) =>
        lines.Select(line => LevelAndEvent().Match(line)).Where(m => m.Success).Select(m => m.Value).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>The simple console format's level names from Warning up: warn, fail, crit.</summary>
    [GeneratedRegex(@"\b(warn|fail|crit): ")]
    private static partial Regex WarningOrAbove();

    [GeneratedRegex(@"\b(trce|dbug|info|warn|fail|crit): \S+\[\d+\]")]
    private static partial Regex LevelAndEvent();
}
