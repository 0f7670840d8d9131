using System.Globalization;
using Sidecar.Cli;

namespace Sidecar.Tests.Cli;

/// <summary><c>sidecar simulate</c>'s flags: the demo's names and defaults, the model's syntax, and a run end to end in process.</summary>
public sealed class SimulateCommandTests
{
    [Fact]
    public void Parse_WithoutOptions_TheDemosModelAndCallers()
    {
        var parse = SidecarCommandLine.Create().Parse(["simulate"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(0.3, parse.GetValue<double>("--failure-rate"));
        Assert.Equal(0.05, parse.GetValue<double>("--slow-rate"));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), parse.GetValue<TimeSpan>("--slow-delay"));
        Assert.Equal(8, parse.GetValue<int>("--concurrency"));
        Assert.Equal(TimeSpan.FromMilliseconds(200), parse.GetValue<TimeSpan>("--interval"));
        Assert.Equal(503, parse.GetValue<int>("--failure-status"));
    }

    [Theory]
    [InlineData("--retry-after", "1.5s")]
    [InlineData("--retry-after", "5s..1s")]
    [InlineData("--latency", "p50=20ms,p99=5ms")]
    [InlineData("--latency", "p90=20ms")]
    [InlineData("--rate", "-3/s")]
    [InlineData("--outage", "30s")]
    [InlineData("--failure-rate", "1.5")]
    [InlineData("--failure-status", "200")]
    [InlineData("--concurrency", "0")]
    [InlineData("--duration", "0s")]
    public void Parse_BadValue_ReportsErrorNamingTheFlag(string option, string value)
    {
        var parse = SidecarCommandLine.Create().Parse(["simulate", option, value]);

        Assert.Contains(parse.Errors, e => e.Message.Contains(option, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--retry-after", "none")]
    [InlineData("--retry-after", "1s..5s")]
    [InlineData("--latency", "p50=20ms,p99=300ms")]
    [InlineData("--rate", "500/s")]
    [InlineData("--outage", "30s@1m")]
    public void Parse_ModelSyntax_Accepted(string option, string value)
    {
        var parse = SidecarCommandLine.Create().Parse(["simulate", option, value]);

        Assert.Empty(parse.Errors);
    }

    [Fact]
    public async Task Invoke_CompareAndJson_PrintsEveryRunOfTheRoute()
    {
        var config = Path.Combine(Path.GetTempPath(), $"simulate-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(config, """
            clusters:
              app: { destinations: ["http://127.0.0.1:1"] }
            policies:
              p: { max_attempts: 3, retry_on: { status: [503] } }
              q: { max_attempts: 2, retry_on: { status: [503] } }
            routes:
              - { name: r, match: { path: "/{**rest}" }, cluster: app, policy: p }
            """);
        using var output = new StringWriter(CultureInfo.InvariantCulture);
        using var error = new StringWriter(CultureInfo.InvariantCulture);
        try
        {
            var parse = SidecarCommandLine.Create().Parse(["simulate", "--config", config, "--duration", "5s", "--json", "--compare", "q", "--retry-after", "none"]);

            var code = await parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error });

            Assert.True(code == 0, error.ToString());
            using var json = System.Text.Json.JsonDocument.Parse(output.ToString());
            Assert.Equal(["r", "r:none", "r:q"], json.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["1", "2"], json.RootElement.GetProperty("r:q").GetProperty("attempts").EnumerateObject().Select(p => p.Name));
        }
        finally
        {
            File.Delete(config);
        }
    }
}
