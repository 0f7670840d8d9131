using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

/// <summary><c>logs:</c> the access log's mode and sample, their defaults and their errors.</summary>
public sealed class LogsBinderTests
{
    private const string File = "config/sidecar.yaml";

    /// <summary>Line 5 holds the <c>logs</c> setting under test, at column 3.</summary>
    private const string Template = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        routes: [{ name: r, cluster: app }]
        logs:
          {0}
        """;

    [Fact]
    public void Parse_NoLogsSection_AccessLogOffEveryRequestSampled()
    {
        var logs = Parse("access_sample: 1").Logs;
        var defaults = SidecarConfigLoader.Parse("clusters: { app: { destinations: [\"http://127.0.0.1:1\"] } }\nroutes: [{ name: r, cluster: app }]", File, MemoryBudget.Of(1L << 30)).Config!.Logs;

        Assert.Equal(AccessLogMode.Off, defaults.Access);
        Assert.Equal(1, defaults.AccessSample);
        Assert.Equal(defaults, logs);
    }

    [Theory]
    [InlineData("access: off", "Off")]
    [InlineData("access: false", "Off")]
    [InlineData("access: failures", "Failures")]
    [InlineData("access: all", "All")]
    public void Parse_AccessMode_ReadsIt(string line, string expected)
    {
        Assert.Equal(expected, Parse(line).Logs.Access.ToString());
    }

    [Theory]
    [InlineData("access: failure", "config/sidecar.yaml:5:11 logs.access: unknown access log mode 'failure' (did you mean 'failures'?); allowed: off, failures, all")]
    [InlineData("access_sample: 1.5", "config/sidecar.yaml:5:18 logs.access_sample: must be between 0 and 1, got 1.5")]
    public void Parse_BadValue_NamesFileLineAndKey(string line, string expected)
    {
        var result = SidecarConfigLoader.Parse(Template.Replace("{0}", line, StringComparison.Ordinal), File, MemoryBudget.Of(1L << 30));

        Assert.False(result.Succeeded);
        Assert.Equal(expected, Assert.Single(result.Errors).ToString());
    }

    private static SidecarConfig Parse(string line)
    {
        var result = SidecarConfigLoader.Parse(Template.Replace("{0}", line, StringComparison.Ordinal), File, MemoryBudget.Of(1L << 30));
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        return result.Config!;
    }
}
