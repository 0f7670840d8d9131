using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Logging;

namespace Sidecar.Tests.Logging;

public sealed class LogSummaryServiceTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ExecuteAsync_TimeAdvances_EverySourceSummarizedOncePerInterval()
    {
        var time = new FakeTimeProvider();
        var first = new RecordingSource();
        var second = new RecordingSource();
        using var service = new LogSummaryService([first, second], time, Interval);
        await service.StartAsync(CancellationToken.None);

        // Just short of the interval nothing is due; had it fired, the interval it reports would be 9s.
        time.Advance(TimeSpan.FromSeconds(9));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Interval, await first.NextAsync());
        Assert.Equal(Interval, await second.NextAsync());

        time.Advance(Interval);
        Assert.Equal(Interval, await first.NextAsync());
        Assert.Equal(Interval, await second.NextAsync());

        await service.StopAsync(CancellationToken.None);
        Assert.Equal((0, 0), (first.Pending, second.Pending));
    }

    [Fact]
    public async Task StoppedAsync_PartWayThroughAnInterval_SummarizesTheRest()
    {
        var time = new FakeTimeProvider();
        var source = new RecordingSource();
        using var service = new LogSummaryService([source], time, Interval);
        await service.StartAsync(CancellationToken.None);
        time.Advance(Interval);
        Assert.Equal(Interval, await source.NextAsync());

        time.Advance(TimeSpan.FromSeconds(3));
        await service.StopAsync(CancellationToken.None);
        await service.StoppedAsync(CancellationToken.None);

        Assert.Equal(TimeSpan.FromSeconds(3), await source.NextAsync());
        time.Advance(Interval * 3);
        Assert.Equal(0, source.Pending);
    }

    [Fact]
    public void Constructor_IntervalNotPositive_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LogSummaryService([], new FakeTimeProvider(), TimeSpan.Zero));
    }

    /// <summary>Hands each summarized interval to the test as it happens.</summary>
    private sealed class RecordingSource : ILogSummarySource
    {
        private readonly BlockingCollection<TimeSpan> _intervals = [];

        public int Pending => _intervals.Count;

        public void Summarize(TimeSpan interval) => _intervals.Add(interval);

        // The timer's continuation runs on the thread pool after Advance returns: wait for it (bounded, against a hang).
        public Task<TimeSpan> NextAsync() => Task.Run(() => _intervals.TryTake(out var interval, TimeSpan.FromSeconds(30)) ? interval : throw new TimeoutException("no summary"));
    }
}
