using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Tests.TestSupport;

namespace Sidecar.Tests.Retries;

public sealed class PushbackParserTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("-0", 0)]
    [InlineData("1", 1)]
    [InlineData("250", 250)]
    [InlineData(" 250\t", 250)]
    [InlineData("86400000", 86_400_000)]
    public void TryParse_NonNegative_IsDelay(string value, long milliseconds)
    {
        Assert.True(PushbackParser.TryParse(value, out var delay, out var stop));
        Assert.False(stop);
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), delay);
    }

    [Theory]
    [InlineData("86400001")]
    [InlineData("9223372036854775807")]
    [InlineData("99999999999999999999999999")]
    public void TryParse_Huge_CapsAtOneDay(string value)
    {
        Assert.True(PushbackParser.TryParse(value, out var delay, out var stop));
        Assert.False(stop);
        Assert.Equal(TimeSpan.FromDays(1), delay);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-250")]
    [InlineData(" -1 ")]
    [InlineData("-9223372036854775808")]
    [InlineData("-99999999999999999999999999")]
    public void TryParse_Negative_MeansStop(string value)
    {
        Assert.True(PushbackParser.TryParse(value, out var delay, out var stop));
        Assert.True(stop);
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("-")]
    [InlineData("--1")]
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData("5ms")]
    [InlineData("1 2")]
    [InlineData("- 1")]
    [InlineData("abc")]
    [InlineData("٣")]
    public void TryParse_Garbage_ReturnsFalse(string? value)
    {
        Assert.False(PushbackParser.TryParse(value, out var delay, out var stop));
        Assert.False(stop);
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Fact]
    public void TryParse_FuzzedInput_NeverThrows()
    {
        foreach (var value in FuzzStrings.Generate(20_000, 2, "250", "-1", "0"))
        {
            var parsed = PushbackParser.TryParse(value, out var delay, out var stop);
            Assert.InRange(delay, TimeSpan.Zero, ConfigReader.MaxDuration);
            Assert.True(parsed || (!stop && delay == TimeSpan.Zero));
            Assert.False(stop && delay != TimeSpan.Zero);
        }
    }
}
