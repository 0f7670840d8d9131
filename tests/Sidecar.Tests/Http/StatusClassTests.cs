using Sidecar.Http;

namespace Sidecar.Tests.Http;

public sealed class StatusClassTests
{
    [Theory]
    [InlineData(100, "1xx")]
    [InlineData(101, "1xx")]
    [InlineData(199, "1xx")]
    [InlineData(200, "2xx")]
    [InlineData(204, "2xx")]
    [InlineData(302, "3xx")]
    [InlineData(404, "4xx")]
    [InlineData(429, "4xx")]
    [InlineData(499, "4xx")]
    [InlineData(500, "5xx")]
    [InlineData(503, "5xx")]
    [InlineData(599, "5xx")]
    [InlineData(0, "other")]
    [InlineData(99, "other")]
    [InlineData(600, "other")]
    [InlineData(-1, "other")]
    [InlineData(int.MaxValue, "other")]
    [InlineData(int.MinValue, "other")]
    public void Of_Status_ReturnsItsClass(int status, string expected)
        => Assert.Equal(expected, StatusClass.Of(status));

    [Fact]
    public void Of_SameClass_ReturnsTheSameCachedString()
    {
        Assert.Same(StatusClass.Of(500), StatusClass.Of(503));
        Assert.Same(StatusClass.Of(0), StatusClass.Other);
    }

    [Fact]
    public void Of_DoesNotAllocate()
    {
        StatusClass.Of(503);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var status = 0; status < 1000; status++)
        {
            StatusClass.Of(status);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}
