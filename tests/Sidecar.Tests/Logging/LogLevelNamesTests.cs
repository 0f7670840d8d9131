using Sidecar.Logging;

namespace Sidecar.Tests.Logging;

public sealed class LogLevelNamesTests
{
    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("Debug", LogLevel.Debug)]
    [InlineData("INFORMATION", LogLevel.Information)]
    [InlineData(" warning ", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    [InlineData("critical", LogLevel.Critical)]
    [InlineData("none", LogLevel.None)]
    public void TryParse_LevelName_AnyCase(string text, LogLevel expected)
    {
        Assert.True(LogLevelNames.TryParse(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("verbose")]
    [InlineData("info")]
    [InlineData("2")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("Debug, Error")]
    public void TryParse_NotALevelName_False(string? text)
    {
        Assert.False(LogLevelNames.TryParse(text, out _));
    }

    [Theory]
    [InlineData("0", LogLevel.Trace)]
    [InlineData("6", LogLevel.None)]
    [InlineData("Warning", LogLevel.Warning)]
    public void TryParseConfigurationValue_NameOrNumberDotNetAccepts_Level(string text, LogLevel expected)
    {
        Assert.True(LogLevelNames.TryParseConfigurationValue(text, out var level));
        Assert.Equal(expected, level);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("-1")]
    [InlineData("Debug, Error")]
    [InlineData("loud")]
    public void TryParseConfigurationValue_AnythingElse_False(string text)
    {
        Assert.False(LogLevelNames.TryParseConfigurationValue(text, out _));
    }
}
