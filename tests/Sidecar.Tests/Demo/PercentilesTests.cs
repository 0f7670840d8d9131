using Sidecar.Demo;

namespace Sidecar.Tests.Demo;

public sealed class PercentilesTests
{
    private static readonly TimeSpan[] OneToHundredMs = [.. Enumerable.Range(1, 100).Select(i => TimeSpan.FromMilliseconds(i))];

    [Theory]
    [InlineData(50, 50)]
    [InlineData(99, 99)]
    [InlineData(100, 100)]
    [InlineData(1, 1)]
    [InlineData(99.5, 100)]
    public void NearestRank_OneToHundred_ReturnsTheRankedSample(double percentile, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), Percentiles.NearestRank(OneToHundredMs, percentile));

    [Fact]
    public void NearestRank_TenSamples_P50IsFifthAndP99IsLargest()
    {
        TimeSpan[] sorted = [.. Enumerable.Range(1, 10).Select(i => TimeSpan.FromMilliseconds(i * 10))];

        Assert.Equal(TimeSpan.FromMilliseconds(50), Percentiles.NearestRank(sorted, 50));
        Assert.Equal(TimeSpan.FromMilliseconds(100), Percentiles.NearestRank(sorted, 99));
    }

    [Fact]
    public void NearestRank_OneSample_ReturnsItForEveryPercentile()
    {
        TimeSpan[] sorted = [TimeSpan.FromMilliseconds(7)];

        Assert.Equal(sorted[0], Percentiles.NearestRank(sorted, 0.1));
        Assert.Equal(sorted[0], Percentiles.NearestRank(sorted, 99));
    }

    [Fact]
    public void NearestRank_NoSamples_ReturnsNull() => Assert.Null(Percentiles.NearestRank([], 50));

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(100.1)]
    public void NearestRank_PercentileOutOfRange_Throws(double percentile) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Percentiles.NearestRank(OneToHundredMs, percentile));
}
