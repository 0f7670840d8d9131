using Sidecar.Demo;

namespace Sidecar.Tests.Demo;

public sealed class DemoColumnTests
{
    [Fact]
    public void From_MixedSamples_CountsSuccessesAttemptsRetriesAndRefusals()
    {
        DemoSample[] samples =
        [
            new(true, 200, 1, TimeSpan.FromMilliseconds(3)),
            new(true, 200, 2, TimeSpan.FromMilliseconds(1)),
            new(true, 200, 3, TimeSpan.FromMilliseconds(2)),
            new(true, 503, 3, TimeSpan.FromMilliseconds(5)),
            new(true, 503, 2, TimeSpan.FromMilliseconds(4)),
            new(true, 0, 1, TimeSpan.FromMilliseconds(9)),
        ];

        var column = DemoColumn.From(samples, upstreamRequests: 12, upstreamSuccesses: 3, maxAttempts: 3);

        Assert.Equal(6, column.Requests);
        Assert.Equal(3, column.Successes);
        Assert.Equal(12, column.UpstreamRequests);
        Assert.Equal(3, column.UpstreamSuccesses);
        Assert.Equal([2, 2, 2], column.Attempts);
        Assert.Equal(6, column.Retries);
        Assert.Equal(1, column.RefusedRetries);
        Assert.Equal(TimeSpan.FromMilliseconds(3), column.P50);
        Assert.Equal(TimeSpan.FromMilliseconds(9), column.P99);
    }

    [Fact]
    public void From_AttemptsAboveLimitOrMissing_ClampedIntoFirstAndLastBucket()
    {
        DemoSample[] samples = [new(true, 200, 0, TimeSpan.Zero), new(true, 200, 7, TimeSpan.Zero)];

        var column = DemoColumn.From(samples, 0, 0, maxAttempts: 3);

        Assert.Equal([1, 0, 1], column.Attempts);
        Assert.Equal(2, column.Retries);
    }

    [Fact]
    public void From_NoSamples_HasNoPercentiles()
    {
        var column = DemoColumn.From([], 0, 0, maxAttempts: 3);

        Assert.Equal(0, column.Requests);
        Assert.Null(column.P50);
        Assert.Null(column.P99);
        Assert.Equal([0, 0, 0], column.Attempts);
    }
}
