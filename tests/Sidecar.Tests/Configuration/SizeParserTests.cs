using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class SizeParserTests
{
    [Theory]
    [InlineData("0B", 0L)]
    [InlineData("512B", 512L)]
    [InlineData("64KiB", 65_536L)]
    [InlineData("1.5KiB", 1_536L)]
    [InlineData("8MiB", 8_388_608L)]
    [InlineData("2GiB", 2_147_483_648L)]
    public void TryParse_ValidSize_ReturnsBytes(string text, long expected)
    {
        Assert.True(SizeParser.TryParse(text, out var bytes, out var error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("", "empty size")]
    [InlineData("64", "missing unit (B, KiB, MiB, GiB), e.g. '64B'")]
    [InlineData("64KB", "ambiguous size unit 'KB': use KiB (1024-based) or write the bytes with 'B'")]
    [InlineData("64kB", "ambiguous size unit 'kB': use KiB (1024-based) or write the bytes with 'B'")]
    [InlineData("8MB", "ambiguous size unit 'MB': use MiB (1024-based) or write the bytes with 'B'")]
    [InlineData("1G", "ambiguous size unit 'G': use GiB (1024-based) or write the bytes with 'B'")]
    [InlineData("64kib", "unknown size unit 'kib' (allowed: B, KiB, MiB, GiB)")]
    [InlineData("1TiB", "unknown size unit 'TiB' (allowed: B, KiB, MiB, GiB)")]
    [InlineData("0.5B", "size '0.5B' is not a whole number of bytes")]
    [InlineData("-1KiB", "size '-1KiB' must not be negative")]
    [InlineData("64 KiB", "size '64 KiB' must not contain whitespace")]
    [InlineData("9999999999GiB", "size is too large")]
    public void TryParse_InvalidSize_ReturnsError(string text, string expectedError)
    {
        Assert.False(SizeParser.TryParse(text, out _, out var error));
        Assert.Equal(expectedError, error);
        Assert.False(SizeParser.TryParse(text, out _));
    }

    [Theory]
    [InlineData(0L, "0B")]
    [InlineData(100L, "100B")]
    [InlineData(65_536L, "64KiB")]
    [InlineData(1_536L, "1536B")]
    [InlineData(8_388_608L, "8MiB")]
    [InlineData(1_073_741_824L, "1GiB")]
    public void Format_Bytes_UsesLargestExactUnit(long bytes, string expected) =>
        Assert.Equal(expected, SizeParser.Format(bytes));
}
