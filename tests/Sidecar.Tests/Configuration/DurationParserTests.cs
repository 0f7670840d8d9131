using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class DurationParserTests
{
    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2_000)]
    [InlineData("1.5s", 1_500)]
    [InlineData("0.5ms", 0.5)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("0s", 0)]
    [InlineData("007s", 7_000)]
    public void TryParse_ValidDuration_ReturnsValue(string text, double expectedMilliseconds)
    {
        Assert.True(DurationParser.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), value);
    }

    [Theory]
    [InlineData("", "empty duration")]
    [InlineData("50", "missing unit (ms, s, m, h); did you mean '50s' or '50ms'?")]
    [InlineData("1.5", "missing unit (ms, s, m, h); did you mean '1.5s' or '1.5ms'?")]
    [InlineData("2000", "missing unit (ms, s, m, h); did you mean '2000ms'?")]
    [InlineData("-1s", "duration '-1s' must not be negative")]
    [InlineData("+1s", "duration '+1s' must start with a number, e.g. '250ms' or '64KiB'")]
    [InlineData(" 1s", "duration ' 1s' must not contain whitespace; did you mean '1s'?")]
    [InlineData("1 s", "duration '1 s' must not contain whitespace; did you mean '1s'?")]
    [InlineData("1s\n", "duration '1s\n' must not contain whitespace; did you mean '1s'?")]
    [InlineData("1S", "unknown duration unit 'S' (allowed: ms, s, m, h); did you mean '1s'?")]
    [InlineData("3 Hours", "duration '3 Hours' must not contain whitespace; did you mean '3h'?")]
    [InlineData("1x", "unknown duration unit 'x' (allowed: ms, s, m, h)")]
    [InlineData("1d", "unknown duration unit 'd' (allowed: ms, s, m, h)")]
    [InlineData("1us", "unknown duration unit 'us' (allowed: ms, s, m, h)")]
    [InlineData(".5s", "duration '.5s' must start with a number, e.g. '250ms' or '64KiB'")]
    [InlineData("1.s", "duration '1.s' must start with a number, e.g. '250ms' or '64KiB'")]
    [InlineData("s", "duration 's' must start with a number, e.g. '250ms' or '64KiB'")]
    [InlineData("1e3s", "duration '1e3s' must be a number followed by one unit")]
    [InlineData("1m30s", "duration '1m30s' must be a number followed by one unit")]
    [InlineData("1,5s", "duration '1,5s' must be a number followed by one unit")]
    [InlineData("1000000000h", "duration is too large")]
    [InlineData("99999999999999999999999999999999999ms", "duration '99999999999999999999999999999999999ms' is too large")]
    public void TryParse_InvalidDuration_ReturnsError(string text, string expectedError)
    {
        Assert.False(DurationParser.TryParse(text, out _, out var error));
        Assert.Equal(expectedError, error);
        Assert.False(DurationParser.TryParse(text, out _));
    }

    [Fact]
    public void TryParse_Null_ReturnsError()
    {
        Assert.False(DurationParser.TryParse(null, out _, out var error));
        Assert.Equal("empty duration", error);
    }

    [Theory]
    [InlineData("250ms")]
    [InlineData("1.5s")]
    [InlineData("2m")]
    [InlineData("1h")]
    [InlineData("0.5ms")]
    [InlineData("90s")]
    public void Format_ParsedDuration_RoundTrips(string text)
    {
        Assert.True(DurationParser.TryParse(text, out var value));
        Assert.Equal(text, DurationParser.Format(value));
    }
}
