using System.Text.RegularExpressions;
using System.Xml.Linq;
using Sidecar.Configuration;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// docker/ as text: the Dockerfile's stages, and the compose file's Sidecar config through Sidecar's own config
/// loader. tests/packaging/image.sh builds the image and runs it; these tests say what a change must keep.
/// </summary>
public sealed class DockerPackagingTests
{
    [Fact]
    public void Dockerfile_BuildStage_PublishesWithPublishScript()
    {
        var build = Stages()[0];

        Assert.Matches(@"^FROM \$\{SDK_IMAGE\} AS build", build);
        Assert.Matches(@"(?m)^RUN bash docker/publish\.sh /app\s*$", build);
        Assert.Matches(@"(?m)^COPY docker/publish\.sh ", build);
        // The Native AOT link step needs a C toolchain in the build stage.
        Assert.Matches(@"apt-get install -y --no-install-recommends clang zlib1g-dev", build);
        foreach (var file in new[] { "global.json", "nuget.config", "Directory.Build.props", "Directory.Packages.props" })
        {
            Assert.Matches($@"(?m)^COPY .*\b{Regex.Escape(file)}\b", build);
        }
    }

    [Fact]
    public void Dockerfile_BuildStage_CreatesNuGetFolderFeedsBeforeRestore()
    {
        var build = Stages()[0];
        var folderFeeds = XDocument.Load(RepositoryRoot.Combine("nuget.config"))
            .Descendants("packageSources").Elements("add")
            .Select(source => (string?)source.Attribute("value") ?? string.Empty)
            .Where(value => value.StartsWith('/'));
        var restoreAt = build.IndexOf("dotnet restore", StringComparison.Ordinal);

        Assert.True(restoreAt > 0, "the build stage restores before copying src/");
        foreach (var feed in folderFeeds)
        {
            var mkdirAt = build.IndexOf($"mkdir -p {feed}", StringComparison.Ordinal);
            Assert.True(mkdirAt >= 0 && mkdirAt < restoreAt, $"NuGet fails with NU1301 unless the folder feed {feed} exists before restore");
        }
    }

    [Fact]
    public void Dockerfile_BaseImages_AreBuildArgumentsDefaultingToTheMicrosoftImages()
    {
        var preamble = RepositoryRoot.ReadAllText("docker", "Dockerfile").Split("\nFROM ")[0];

        Assert.Matches(@"(?m)^ARG SDK_IMAGE=mcr\.microsoft\.com/dotnet/sdk:10\.0\s*$", preamble);
        Assert.Matches(@"(?m)^ARG RUNTIME_IMAGE=mcr\.microsoft\.com/dotnet/runtime-deps:10\.0-noble-chiseled\s*$", preamble);
    }

    [Fact]
    public void Dockerfile_RuntimeStage_IsNativeNonRootShellLessWithExecFormHealthcheck()
    {
        var stages = Stages();
        var runtime = stages[^1];

        Assert.Equal(2, stages.Count);
        Assert.Matches(@"^FROM \$\{RUNTIME_IMAGE\} AS runtime", runtime);
        Assert.Matches(@"(?m)^USER \$APP_UID\s*$", runtime);
        Assert.Matches(@"(?m)^HEALTHCHECK .*", runtime);
        // Exec form: the chiseled base has no shell to run a CMD string with.
        Assert.Matches(@"(?m)^\s+CMD \[""/app/sidecar"", ""health""\]", runtime);
        Assert.DoesNotMatch(@"(?m)^RUN ", runtime);
        Assert.Matches(@"(?m)^COPY --from=build /app/ /app/\s*$", runtime);
        Assert.Matches(@"(?m)^COPY config/sidecar\.yaml /etc/sidecar/sidecar\.yaml\s*$", runtime);
        Assert.Matches(@"(?m)^ENV SIDECAR_CONFIG=/etc/sidecar/sidecar\.yaml\b", runtime);
        Assert.Matches(@"(?m)^EXPOSE 8080 9901\s*$", runtime);
        Assert.Matches(@"(?m)^ENTRYPOINT \[""/app/sidecar""\]\s*$", runtime);
        Assert.DoesNotMatch(@"(?m)^COPY (?!--from=build /app/|--from=build /usr/share/zoneinfo/|config/sidecar\.yaml)", runtime);
    }

    [Fact]
    public void Dockerfile_UserDirective_ComesBeforeEntrypoint()
    {
        var runtime = Stages()[^1];

        Assert.True(runtime.IndexOf("\nUSER ", StringComparison.Ordinal) < runtime.IndexOf("\nENTRYPOINT ", StringComparison.Ordinal));
    }

    [Fact]
    public void PackagingScripts_ExistAndAreExecutable()
    {
        foreach (var path in new[] { RepositoryRoot.Combine("docker", "publish.sh"), RepositoryRoot.Combine("tests", "packaging", "image.sh"), RepositoryRoot.Combine("tests", "packaging", "base-images.sh") })
        {
            Assert.True(File.Exists(path), path);
            Assert.StartsWith("#!/usr/bin/env bash", File.ReadAllText(path), StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{path} is not executable");
            }
        }
    }

    [Fact]
    public void PublishScript_PublishesTheSidecarProject()
    {
        var script = RepositoryRoot.ReadAllText("docker", "publish.sh");

        Assert.Matches(@"dotnet publish src/Sidecar/Sidecar\.csproj", script);
        Assert.Contains("--configuration Release", script, StringComparison.Ordinal);
    }

    [Fact]
    public void Dockerignore_AtBuildContextRoot_ExcludesBuildOutput()
    {
        var ignore = RepositoryRoot.ReadAllText(".dockerignore");

        Assert.Matches(@"(?m)^\*\*/bin/\s*$", ignore);
        Assert.Matches(@"(?m)^\*\*/obj/\s*$", ignore);
        Assert.Matches(@"(?m)^\.git\s*$", ignore);
    }

    [Fact]
    public void ComposeFile_SidecarService_MountsComposeConfigReadOnlyAtSidecarConfigPath()
    {
        var sidecar = ComposeService("sidecar");
        var environment = (YamlMappingNode)sidecar.Children[new YamlScalarNode("environment")];
        var volumes = (YamlSequenceNode)sidecar.Children[new YamlScalarNode("volumes")];
        var configPath = ((YamlScalarNode)environment.Children[new YamlScalarNode("SIDECAR_CONFIG")]).Value;

        Assert.Equal("/etc/sidecar/sidecar.yaml", configPath);
        Assert.Contains(volumes.Children, volume => ((YamlScalarNode)volume).Value == $"./sidecar.compose.yaml:{configPath}:ro");
        Assert.Contains("upstream", ComposeServices().Children.Keys.Select(key => ((YamlScalarNode)key).Value));
    }

    [Fact]
    public void ComposeFile_SidecarService_TakesTheLogLevelFromTheCallersEnvironment()
    {
        var environment = (YamlMappingNode)ComposeService("sidecar").Children[new YamlScalarNode("environment")];

        // Empty unless the caller sets it: Sidecar then applies its own default.
        Assert.Equal("${SIDECAR_LOG_LEVEL:-}", ((YamlScalarNode)environment.Children[new YamlScalarNode("SIDECAR_LOG_LEVEL")]).Value);
    }

    [Fact]
    public void ComposeConfig_ListenAddresses_BindAllInterfacesInsideTheContainer()
    {
        var config = (YamlMappingNode)YamlToJson.LoadFile(RepositoryRoot.Combine("docker", "sidecar.compose.yaml"));
        var listen = (YamlMappingNode)config.Children[new YamlScalarNode("listen")];

        Assert.Equal("http://0.0.0.0:8080", ((YamlScalarNode)listen.Children[new YamlScalarNode("proxy")]).Value);
        Assert.Equal("http://0.0.0.0:9901", ((YamlScalarNode)listen.Children[new YamlScalarNode("admin")]).Value);
    }

    [Fact]
    public void ComposeConfig_LoadsWithSidecarConfigLoader()
    {
        var result = SidecarConfigLoader.LoadFile(RepositoryRoot.Combine("docker", "sidecar.compose.yaml"));

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
    }

    /// <summary>The Dockerfile split at each <c>FROM</c>, comments dropped.</summary>
    private static List<string> Stages()
    {
        var lines = RepositoryRoot.ReadAllText("docker", "Dockerfile").ReplaceLineEndings("\n").Split('\n')
            .Where(line => !line.TrimStart().StartsWith('#'));
        var stages = new List<string>();
        foreach (var line in lines)
        {
            if (line.StartsWith("FROM ", StringComparison.Ordinal))
            {
                stages.Add(string.Empty);
            }

            if (stages.Count > 0)
            {
                stages[^1] += line + "\n";
            }
        }

        return stages;
    }

    private static YamlMappingNode ComposeServices()
    {
        var compose = (YamlMappingNode)YamlToJson.LoadFile(RepositoryRoot.Combine("docker", "docker-compose.yaml"));
        return (YamlMappingNode)compose.Children[new YamlScalarNode("services")];
    }

    private static YamlMappingNode ComposeService(string name) => (YamlMappingNode)ComposeServices().Children[new YamlScalarNode(name)];
}
