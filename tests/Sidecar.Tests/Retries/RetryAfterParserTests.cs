using Microsoft.Extensions.Primitives;
using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Tests.TestSupport;

namespace Sidecar.Tests.Retries;

public sealed class RetryAfterParserTests
{
    private static readonly DateTimeOffset Now = new(1994, 11, 6, 8, 49, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    [InlineData("120", 120)]
    [InlineData("007", 7)]
    [InlineData(" 5 ", 5)]
    [InlineData("\t5\t", 5)]
    [InlineData("86399", 86399)]
    public void TryParse_DeltaSeconds_ReturnsSeconds(string value, int seconds)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(seconds), delay);
    }

    [Theory]
    [InlineData("86400")]
    [InlineData("86401")]
    [InlineData("2147483648")]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999999999999999999999")]
    public void TryParse_HugeDeltaSeconds_CapsAtOneDay(string value)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(ConfigReader.MaxDuration, delay);
        Assert.Equal(TimeSpan.FromDays(1), delay);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("1.5")]
    [InlineData("5s")]
    [InlineData("1 2")]
    [InlineData("120, 60")]
    [InlineData("0x10")]
    [InlineData("1e3")]
    [InlineData("٣")]
    [InlineData("\uFF15")]
    [InlineData("soon")]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT")]
    public void TryParse_Garbage_ReturnsFalse(string? value)
    {
        Assert.False(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 1994")]
    [InlineData("Sun Nov 06 08:49:37 1994")]
    [InlineData("  Sun, 06 Nov 1994 08:49:37 GMT  ")]
    [InlineData("\tSun, 06 Nov 1994 08:49:37 GMT\t")]
    public void TryParse_HttpDateInEachForm_ReturnsTimeUntilIt(string value)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(37), delay);
    }

    [Fact]
    public void TryParse_HttpDate_MeasuresFromNowWithSubSecondPrecision()
    {
        var now = Now.AddMilliseconds(250);

        Assert.True(RetryAfterParser.TryParse("Sun, 06 Nov 1994 08:49:01 GMT", now, out var delay));
        Assert.Equal(TimeSpan.FromMilliseconds(750), delay);
    }

    [Fact]
    public void TryParse_HttpDateWithOffsetNow_ComparesInstants()
    {
        var now = new DateTimeOffset(1994, 11, 6, 10, 49, 0, TimeSpan.FromHours(2));

        Assert.True(RetryAfterParser.TryParse("Sun, 06 Nov 1994 08:49:10 GMT", now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(10), delay);
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:48:59 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:00 GMT")]
    [InlineData("Thu, 01 Jan 1970 00:00:00 GMT")]
    [InlineData("Mon, 01 Jan 0001 00:00:00 GMT")]
    public void TryParse_DateNotInTheFuture_IsZeroDelay(string value)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    [Theory]
    [InlineData("Mon, 07 Nov 1994 08:49:01 GMT")]
    [InlineData("Fri, 31 Dec 9999 23:59:59 GMT")]
    public void TryParse_DateMoreThanADayAhead_CapsAtOneDay(string value)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromDays(1), delay);
    }

    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT+1")]
    [InlineData("Sun, 06 Foo 1994 08:49:37 GMT")]
    [InlineData("Xyz, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 31 Feb 2024 00:00:00 GMT")]
    [InlineData("Thu, 29 Feb 2023 00:00:00 GMT")]
    [InlineData("Sun, 00 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 0000 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 24:00:00 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:60:00 GMT")]
    [InlineData("Sun, 06 Nov 1994 08:49:61 GMT")]
    [InlineData("Sun, 06 Nov 1994 08-49-37 GMT")]
    [InlineData("Sun 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun; 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-1994 08:49:37 GMT")]
    [InlineData("Sun, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sundae, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sunday, 06 Nov 94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 94")]
    [InlineData("Sun Nov  6 08:49:37 1994 GMT")]
    [InlineData("Sun,")]
    [InlineData(",")]
    [InlineData("S,")]
    public void TryParse_MalformedDate_ReturnsFalse(string value)
    {
        Assert.False(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    /// <summary>
    /// Forms outside RFC 9110's grammar that .NET's <c>RetryConditionHeaderValue</c> (and so <c>HttpResponseMessage.Headers.RetryAfter</c>)
    /// accepts: Sidecar honours them as any .NET client would. The hand-written parser before it rejected these.
    /// </summary>
    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 UTC")]
    [InlineData("Sun, 06 Nov 1994 08:49:37")]
    [InlineData("Sun, 6 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun,  6 Nov 1994 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 94 08:49:37 GMT")]
    [InlineData("Sun, 06 Nov 1994 8:49:37 GMT")]
    [InlineData("Sun Nov 6 08:49:37 1994")]
    [InlineData("Sun, 06 Nov 1994 09:49:37 +0100")]
    public void TryParse_LenientDateFormsDotNetAccepts_ReturnsTimeUntilIt(string value)
    {
        Assert.True(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(37), delay);
    }

    /// <summary>
    /// Dates the hand-written parser before <c>RetryConditionHeaderValue</c> accepted and .NET rejects: lower-case
    /// names (RFC 9110 says they are case-sensitive), a weekday that contradicts the date, and a leap second. Such a
    /// <c>Retry-After</c> is ignored like any other malformed one, and the policy's own backoff applies.
    /// </summary>
    [Theory]
    [InlineData("sun, 06 nov 1994 08:49:37 gmt")]
    [InlineData("Mon, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sat, 31 Dec 2016 23:59:60 GMT")]
    [InlineData("Fri, 31 Dec 9999 23:59:60 GMT")]
    public void TryParse_DatesDotNetRejects_ReturnsFalse(string value)
    {
        Assert.False(RetryAfterParser.TryParse(value, Now, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }

    /// <summary>
    /// An RFC 850 date's two-digit year is read with .NET's window (00-49 is 20xx, 50-99 is 19xx), not RFC 9110's
    /// "at most 50 years ahead" rule the hand-written parser applied: the two differ only for years 2050 to 2076,
    /// in a format obsolete since 1996.
    /// </summary>
    [Theory]
    [InlineData("Thursday, 01-Jan-26 00:00:00 GMT", 60)]
    [InlineData("Friday, 01-Jan-49 00:00:00 GMT", 86_400)]
    [InlineData("Wednesday, 01-Jan-75 00:00:00 GMT", 0)]
    public void TryParse_Rfc850TwoDigitYear_UsesDotNetWindow(string value, int seconds)
    {
        var now = new DateTimeOffset(2025, 12, 31, 23, 59, 0, TimeSpan.Zero);

        Assert.True(RetryAfterParser.TryParse(value, now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(seconds), delay);
    }

    [Fact]
    public void TryParse_StringValues_ParsesASingleValue()
    {
        Assert.True(RetryAfterParser.TryParse(new StringValues("3"), Now, out var delay));
        Assert.Equal(TimeSpan.FromSeconds(3), delay);
        Assert.True(RetryAfterParser.TryParse(new StringValues(["Sun, 06 Nov 1994 08:49:37 GMT"]), Now, out delay));
        Assert.Equal(TimeSpan.FromSeconds(37), delay);
    }

    [Fact]
    public void TryParse_StringValuesEmptyOrSeveral_ReturnsFalse()
    {
        Assert.False(RetryAfterParser.TryParse(StringValues.Empty, Now, out _));
        Assert.False(RetryAfterParser.TryParse(new StringValues(["1", "2"]), Now, out _));
        Assert.False(RetryAfterParser.TryParse(new StringValues(["1", "1"]), Now, out _));
        Assert.False(RetryAfterParser.TryParse(new StringValues([null]), Now, out _));
    }

    [Fact]
    public void TryParse_FuzzedInput_NeverThrowsAndStaysWithinCap()
    {
        var seeds = new[] { "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "120" };
        foreach (var now in new[] { Now, DateTimeOffset.MinValue, DateTimeOffset.MaxValue })
        {
            foreach (var value in FuzzStrings.Generate(20_000, 1, seeds))
            {
                if (RetryAfterParser.TryParse(value, now, out var delay))
                {
                    Assert.InRange(delay, TimeSpan.Zero, ConfigReader.MaxDuration);
                }
                else
                {
                    Assert.Equal(TimeSpan.Zero, delay);
                }
            }
        }
    }
}
