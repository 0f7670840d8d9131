using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Tests.TestSupport;

namespace Sidecar.Tests.Retries;

public sealed class DeadlineHeaderParserTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("1500", 1500)]
    [InlineData(" 10 ", 10)]
    [InlineData("0010", 10)]
    [InlineData("86400000", 86_400_000)]
    public void TryParseTimeoutMs_PositiveInteger_IsMilliseconds(string value, long milliseconds)
    {
        Assert.True(DeadlineHeaderParser.TryParseTimeoutMs(value, out var timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), timeout);
    }

    [Theory]
    [InlineData("86400001")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999")]
    public void TryParseTimeoutMs_Huge_CapsAtOneDay(string value)
    {
        Assert.True(DeadlineHeaderParser.TryParseTimeoutMs(value, out var timeout));
        Assert.Equal(TimeSpan.FromDays(1), timeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("0")]
    [InlineData("000")]
    [InlineData("-5")]
    [InlineData("+5")]
    [InlineData("1e3")]
    [InlineData("1.5")]
    [InlineData("10ms")]
    [InlineData("1 0")]
    [InlineData("10S")]
    [InlineData("٣")]
    public void TryParseTimeoutMs_Invalid_ReturnsFalse(string? value)
    {
        Assert.False(DeadlineHeaderParser.TryParseTimeoutMs(value, out var timeout));
        Assert.Equal(TimeSpan.Zero, timeout);
    }

    [Theory]
    [InlineData("1H", 36_000_000_000)]
    [InlineData("2M", 1_200_000_000)]
    [InlineData("3S", 30_000_000)]
    [InlineData("100m", 1_000_000)]
    [InlineData("5u", 50)]
    [InlineData("1n", 1)]
    [InlineData("100n", 1)]
    [InlineData("101n", 2)]
    [InlineData("99999999n", 1_000_000)]
    [InlineData("99999999u", 999_999_990)]
    [InlineData("00000001S", 10_000_000)]
    [InlineData(" 3S ", 30_000_000)]
    [InlineData("24H", 864_000_000_000)]
    public void TryParseGrpcTimeout_ValueAndUnit_IsDuration(string value, long ticks)
    {
        Assert.True(DeadlineHeaderParser.TryParseGrpcTimeout(value, out var timeout));
        Assert.Equal(TimeSpan.FromTicks(ticks), timeout);
    }

    [Theory]
    [InlineData("25H")]
    [InlineData("99999999H")]
    [InlineData("99999999M")]
    [InlineData("99999999S")]
    public void TryParseGrpcTimeout_LongerThanADay_CapsAtOneDay(string value)
    {
        Assert.True(DeadlineHeaderParser.TryParseGrpcTimeout(value, out var timeout));
        Assert.Equal(TimeSpan.FromDays(1), timeout);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("S")]
    [InlineData("10")]
    [InlineData("0S")]
    [InlineData("00000000m")]
    [InlineData("123456789S")]
    [InlineData("10s")]
    [InlineData("10h")]
    [InlineData("10x")]
    [InlineData("10SS")]
    [InlineData("-1S")]
    [InlineData("+1S")]
    [InlineData("1 S")]
    [InlineData("1.5S")]
    [InlineData("٣S")]
    [InlineData("S10")]
    public void TryParseGrpcTimeout_Invalid_ReturnsFalse(string? value)
    {
        Assert.False(DeadlineHeaderParser.TryParseGrpcTimeout(value, out var timeout));
        Assert.Equal(TimeSpan.Zero, timeout);
    }

    [Fact]
    public void Parsers_FuzzedInput_NeverThrowAndStayPositiveAndCapped()
    {
        foreach (var value in FuzzStrings.Generate(20_000, 3, "1500", "100m", "3S", "5u", "1H", "99999999n"))
        {
            if (DeadlineHeaderParser.TryParseTimeoutMs(value, out var timeout))
            {
                Assert.InRange(timeout, TimeSpan.FromTicks(1), ConfigReader.MaxDuration);
            }

            if (DeadlineHeaderParser.TryParseGrpcTimeout(value, out timeout))
            {
                Assert.InRange(timeout, TimeSpan.FromTicks(1), ConfigReader.MaxDuration);
            }
        }
    }
}
