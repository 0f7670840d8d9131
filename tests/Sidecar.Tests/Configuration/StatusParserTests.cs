using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class StatusParserTests
{
    [Theory]
    [InlineData("100", 100, 100)]
    [InlineData("503", 503, 503)]
    [InlineData("599", 599, 599)]
    [InlineData("5xx", 500, 599)]
    [InlineData("4XX", 400, 499)]
    [InlineData("1xx", 100, 199)]
    public void TryParse_CodeOrClass_ReturnsRange(string text, int low, int high)
    {
        Assert.True(StatusParser.TryParse(text, out var matcher));
        Assert.Equal(new StatusMatcher(low, high), matcher);
    }

    [Theory]
    [InlineData("99")]
    [InlineData("600")]
    [InlineData("6xx")]
    [InlineData("0xx")]
    [InlineData("5x")]
    [InlineData("50x")]
    [InlineData("+50")]
    [InlineData("abc")]
    [InlineData("")]
    public void TryParse_Invalid_ReturnsFalse(string text) => Assert.False(StatusParser.TryParse(text, out _));
}
