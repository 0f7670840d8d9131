using Sidecar.Retries;

namespace Sidecar.Tests.Retries;

public sealed class BackoffWaitLimiterTests
{
    [Theory]
    [InlineData(1000, 1, 1000)]
    [InlineData(1000, 2, 500)]
    [InlineData(1000, 3, 334)]
    [InlineData(1000, 4, 250)]
    [InlineData(1000, 50, 250)]
    [InlineData(8, 2, 4)]
    [InlineData(1, 5, 1)]
    [InlineData(0, 3, 0)]
    [InlineData(int.MaxValue, 1, int.MaxValue)]
    public void ClusterShare_CapSplitIntoAtMostFourShares(int limit, int clusters, int expected)
    {
        Assert.Equal(expected, BackoffWaitLimiter.ClusterShare(limit, clusters));
    }
}
