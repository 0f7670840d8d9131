using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Sidecar.Configuration;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// The compose files in docker/ for both compose generations: Debian's docker-compose 1.29 (Python) and the Compose v2
/// plugin. 1.29 validates against a schema that knows only the keys below at the top level (no <c>name</c>), and
/// Docker kills a container <c>stop_grace_period</c> (default 10 s) after SIGTERM, which must outlast Sidecar's drain.
/// </summary>
public sealed partial class ComposeFileTests
{
    /// <summary>Top-level keys of docker-compose 1.29's schema (compose_spec.json); Compose v2 accepts them too.</summary>
    private static readonly string[] Compose1TopLevelKeys = ["version", "services", "networks", "volumes", "secrets", "configs"];

    /// <summary>Time for the process to exit once the drain is over (flush logs, stop the admin server).</summary>
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(3);

    private readonly ITestOutputHelper _output;

    public ComposeFileTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string> ComposeFiles() => [.. ComposeFileNames()];

    [Fact]
    public void ComposeFiles_Found_IncludeTheDemoComposeFile()
    {
        Assert.Contains("docker-compose.yaml", ComposeFileNames());
    }

    [Theory]
    [MemberData(nameof(ComposeFiles))]
    public void ComposeFile_TopLevelKeys_AreAcceptedByDockerCompose1(string file)
    {
        var root = (YamlMappingNode)YamlToJson.LoadFile(RepositoryRoot.Combine("docker", file));

        foreach (var key in root.Children.Keys.Select(k => ((YamlScalarNode)k).Value!))
        {
            Assert.True(
                Compose1TopLevelKeys.Contains(key) || key.StartsWith("x-", StringComparison.Ordinal),
                $"docker/{file}: top-level '{key}' makes docker-compose 1.29 reject the file (allowed: {string.Join(", ", Compose1TopLevelKeys)}, x-*)");
        }
    }

    [Fact]
    public void ComposeFile_SidecarStopGracePeriod_OutlastsTheDrain()
    {
        var compose = (YamlMappingNode)YamlToJson.LoadFile(RepositoryRoot.Combine("docker", "docker-compose.yaml"));
        var sidecar = (YamlMappingNode)((YamlMappingNode)compose.Children[new YamlScalarNode("services")]).Children[new YamlScalarNode("sidecar")];
        var config = SidecarConfigLoader.LoadFile(RepositoryRoot.Combine("docker", "sidecar.compose.yaml"));
        Assert.True(config.Succeeded, string.Join(Environment.NewLine, config.Errors));
        var limits = config.Config!.Limits;

        Assert.True(sidecar.Children.TryGetValue(new YamlScalarNode("stop_grace_period"), out var value), "the sidecar service sets no stop_grace_period: Docker kills it after 10 s");
        var grace = ComposeDuration(((YamlScalarNode)value).Value!);

        Assert.True(
            grace >= limits.DrainDelay + limits.DrainTimeout + ExitMargin,
            $"stop_grace_period {grace} must cover drain_delay {limits.DrainDelay} + drain_timeout {limits.DrainTimeout} + {ExitMargin}");
    }

    [ToolTheory("docker-compose")]
    [MemberData(nameof(ComposeFiles))]
    public async Task ComposeFile_DockerComposeConfig_AcceptsIt(string file)
    {
        var dockerCompose = ExternalTool.Require("docker-compose");

        var startInfo = new ProcessStartInfo(dockerCompose)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Combine("docker"),
        };
        foreach (var argument in new[] { "--file", file, "--project-name", "sidecar-check", "config", "--quiet" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 0, $"docker-compose config rejected docker/{file} ({process.ExitCode}):\n{await stdout}{await stderr}");
    }

    /// <summary>The YAML files in docker/ with a top-level <c>services</c>: sidecar.compose.yaml is Sidecar's config, not one.</summary>
    private static List<string> ComposeFileNames() =>
        [.. Directory.EnumerateFiles(RepositoryRoot.Combine("docker"))
            .Where(file => file.EndsWith(".yaml", StringComparison.Ordinal) || file.EndsWith(".yml", StringComparison.Ordinal))
            .Where(file => YamlToJson.LoadFile(file) is YamlMappingNode root && root.Children.ContainsKey(new YamlScalarNode("services")))
            .Select(file => Path.GetFileName(file))
            .Order(StringComparer.Ordinal)];

    /// <summary>A compose duration such as <c>35s</c>, <c>1m30s</c> or <c>500ms</c>.</summary>
    private static TimeSpan ComposeDuration(string text)
    {
        var match = ComposeDurationSyntax().Match(text);
        Assert.True(match.Success, $"'{text}' is not a compose duration");
        var total = TimeSpan.Zero;
        foreach (Capture part in match.Groups["part"].Captures)
        {
            var unit = part.Value.TrimStart("0123456789.".ToCharArray());
            var number = double.Parse(part.Value[..^unit.Length], CultureInfo.InvariantCulture);
            total += unit switch
            {
                "h" => TimeSpan.FromHours(number),
                "m" => TimeSpan.FromMinutes(number),
                "s" => TimeSpan.FromSeconds(number),
                "ms" => TimeSpan.FromMilliseconds(number),
                _ => throw new FormatException(text),
            };
        }

        return total;
    }

    [GeneratedRegex(@"^(?<part>[0-9.]+(h|ms|m|s))+$")]
    private static partial Regex ComposeDurationSyntax();
}
