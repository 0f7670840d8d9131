using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class ExampleConfigTests
{
    public static TheoryData<string> ExampleFiles()
    {
        var data = new TheoryData<string>();
        foreach (var name in ExampleFileNames())
        {
            data.Add(name);
        }

        return data;
    }

    private static List<string> ExampleFileNames() =>
        Directory.EnumerateFiles(RepositoryRoot.Combine("config", "examples"), "*.yaml")
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal)
            .ToList();

    [Fact]
    public void ExamplesFolder_HoldsTheDocumentedExamples()
    {
        var names = ExampleFileNames();

        Assert.Contains("basic.yaml", names);
        Assert.Contains("full-reference.yaml", names);
        Assert.Contains("multi-cluster.yaml", names);
        Assert.Contains("grpc.yaml", names);
    }

    [Fact]
    public void LoadFile_Grpc_IsTheReadmeRecipe()
    {
        var config = SidecarConfigLoader.LoadFile(RepositoryRoot.Combine("config", "examples", "grpc.yaml")).Config!;

        Assert.Equal(ProxyProtocol.H2c, config.Listen.ProxyProtocol);
        Assert.Equal(UpstreamProtocol.Http2, config.Clusters["inventory"].Protocol);
        Assert.Equal([14, 8], config.Policies["grpc"].RetryOn.Grpc);
    }

    [Theory]
    [MemberData(nameof(ExampleFiles))]
    public void LoadFile_Example_IsValid(string fileName)
    {
        var result = SidecarConfigLoader.LoadFile(RepositoryRoot.Combine("config", "examples", fileName));

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.NotEmpty(result.Config!.Routes);
    }

    [Fact]
    public void LoadFile_FullReference_SetsEveryOptionalSection()
    {
        var config = SidecarConfigLoader.LoadFile(RepositoryRoot.Combine("config", "examples", "full-reference.yaml")).Config!;

        Assert.NotNull(config.Listen.Metrics);
        var cluster = config.Clusters["orders"];
        Assert.NotNull(cluster.Health.Active);
        Assert.NotNull(cluster.CircuitBreaker);
        var policy = config.Policies["default"];
        Assert.NotNull(policy.Hedge);
        Assert.Equal(2, policy.RetryUntil.Count);
        Assert.Single(policy.RetryOn.Headers);
        Assert.Single(policy.RetryOn.Grpc);
        Assert.False(config.Policies["no-budget"].Budget.Enabled);
        Assert.Single(config.Routes[0].Match.Headers);
    }

    [Fact]
    public void Parse_MangledFullReference_NeverThrows()
    {
        var lines = System.IO.File.ReadAllLines(RepositoryRoot.Combine("config", "examples", "full-reference.yaml"));
        string[] replacements = ["[]", "{}", "~", "x", "-1", "\"\"", "[x, {a: 1}]", "{ unknown: 1 }", "&a 1", "'"];
        for (var i = 0; i < lines.Length; i++)
        {
            var without = lines.Where((_, index) => index != i);
            Assert.NotNull(SidecarConfigLoader.Parse(string.Join('\n', without), "mangled.yaml"));

            var colon = lines[i].IndexOf(": ", StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            foreach (var replacement in replacements)
            {
                var mangled = lines.ToArray();
                mangled[i] = lines[i][..(colon + 2)] + replacement;
                var result = SidecarConfigLoader.Parse(string.Join('\n', mangled), "mangled.yaml");
                Assert.Equal(result.Errors.Count == 0, result.Succeeded);
            }
        }
    }
}
