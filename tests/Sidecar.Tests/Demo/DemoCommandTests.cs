using Sidecar.Cli;
using Sidecar.Demo;

namespace Sidecar.Tests.Demo;

public sealed class DemoCommandTests
{
    [Theory]
    [InlineData("10s", 10_000)]
    [InlineData("1s", 1_000)]
    [InlineData("1500ms", 1_500)]
    [InlineData("1m", 60_000)]
    public void TryParseDuration_WithinBounds_Parses(string text, int expectedMs)
    {
        Assert.True(DemoCommand.TryParseDuration(text, out var duration, out var error));
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), duration);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("61s", "between 1s and 1m")]
    [InlineData("2m", "between 1s and 1m")]
    [InlineData("500ms", "between 1s and 1m")]
    [InlineData("10", "missing unit")]
    [InlineData("soon", "--duration 'soon'")]
    public void TryParseDuration_OutOfBoundsOrMalformed_Fails(string text, string expectedError)
    {
        Assert.False(DemoCommand.TryParseDuration(text, out _, out var error));
        Assert.Contains(expectedError, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DemoWithOptions_BindsValues()
    {
        var parse = SidecarCommandLine.Create().Parse(["demo", "--duration", "2s", "--concurrency", "4", "--failure-rate", "0.5"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(TimeSpan.FromSeconds(2), parse.GetValue<TimeSpan>("--duration"));
        Assert.Equal(4, parse.GetValue<int>("--concurrency"));
        Assert.Equal(0.5, parse.GetValue<double>("--failure-rate"));
    }

    [Fact]
    public void Parse_DemoWithoutOptions_UsesDefaults()
    {
        var parse = SidecarCommandLine.Create().Parse(["demo"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(TimeSpan.FromSeconds(10), parse.GetValue<TimeSpan>("--duration"));
        Assert.Equal(8, parse.GetValue<int>("--concurrency"));
        Assert.Equal(0.3, parse.GetValue<double>("--failure-rate"));
    }

    [Theory]
    [InlineData("--duration", "90s")]
    [InlineData("--concurrency", "0")]
    [InlineData("--concurrency", "1000")]
    [InlineData("--failure-rate", "1.5")]
    public void Parse_DemoWithValueOutOfRange_ReportsError(string option, string value)
    {
        var parse = SidecarCommandLine.Create().Parse(["demo", option, value]);

        Assert.Contains(parse.Errors, e => e.Message.Contains(option, StringComparison.Ordinal));
    }
}
