using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Tests.Policies;

public sealed class RetryBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void TryAcquireRetry_NoRequests_AllowsTheFloorOnly()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 10, windowSeconds: 10);

        Assert.Equal(100, AcquireAll(budget, options, 1000));
        Assert.Equal(100, budget.RetriesInWindow(options.Window));
    }

    [Fact]
    public void TryAcquireRetry_Ratio_AllowsThatShareOfUpstreamRequests()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 0, windowSeconds: 10);
        Record(budget, 100);

        // 25 retries of 125 upstream requests are 20%: 1.25 attempts per request at most.
        Assert.Equal(25, AcquireAll(budget, options, 1000));
    }

    [Fact]
    public void RecordRequest_ClockSecondsAboveTwoToThe31_CountsFromTheFirstRequest()
    {
        // FakeTimeProvider's timestamps are ticks since year 1: its seconds do not fit 31 bits, and an unused bucket
        // (second 0) must still be taken for the current second rather than read as one from the future.
        Assert.True(_time.GetTimestamp() / _time.TimestampFrequency % (1L << 32) >= 1L << 31);
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 0, windowSeconds: 10);

        Record(budget, 5);

        Assert.Equal(5, budget.RequestsInWindow(options.Window));
        Assert.True(budget.TryAcquireRetry(options));
    }

    [Theory]
    [InlineData(40, 40)]
    [InlineData(4, 10)]
    [InlineData(0, 10)]
    public void TryAcquireRetry_RatioAndFloor_TheLargerApplies(int requests, int expected)
    {
        // The ratio allows requests × 0.5 / 0.5; the floor 2/s × 5 s.
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.5, minPerSecond: 2, windowSeconds: 5);
        Record(budget, requests);

        Assert.Equal(expected, AcquireAll(budget, options, 1000));
    }

    [Theory]
    [InlineData(12, 0.2, 3)]
    [InlineData(10, 0.2, 3)]
    [InlineData(8, 0.2, 2)]
    [InlineData(9, 0.1, 1)]
    [InlineData(10, 0.1, 2)]
    [InlineData(1, 0.5, 1)]
    [InlineData(0, 0.5, 0)]
    public void TryAcquireRetry_FractionalAllowance_AllowsWhileRetriesBeforeAreBelowIt(int requests, double ratio, int expected)
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio, minPerSecond: 0, windowSeconds: 10);
        Record(budget, requests);

        Assert.Equal(expected, AcquireAll(budget, options, 100));
    }

    [Fact]
    public void TryAcquireRetry_Refused_IsNotCounted()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.1, minPerSecond: 0, windowSeconds: 10);
        Record(budget, 50);

        // 50 / 9 = 5.6: retries 0..5 are below it.
        Assert.Equal(6, AcquireAll(budget, options, 100));
        Assert.Equal(6, budget.RetriesInWindow(options.Window));

        // More requests make room again at once, because refusals left no trace.
        Record(budget, 10);
        Assert.True(budget.TryAcquireRetry(options));
        Assert.False(budget.TryAcquireRetry(options));
    }

    [Fact]
    public void TryAcquireRetry_Disabled_AlwaysAllowsAndStillCounts()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0, minPerSecond: 0, windowSeconds: 10) with { Enabled = false };

        Assert.Equal(1000, AcquireAll(budget, options, 1000));
        Assert.Equal(1000, budget.RetriesInWindow(options.Window));
        Assert.False(budget.TryAcquireRetry(options with { Enabled = true }));
    }

    [Fact]
    public void TryAcquireRetry_WindowSlides_OldRequestsAndRetriesAgeOut()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 0, windowSeconds: 10);
        Record(budget, 100);
        Assert.Equal(25, AcquireAll(budget, options, 100));

        // Still inside the window (the current second and the nine before it).
        _time.Advance(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal(100, budget.RequestsInWindow(options.Window));
        Assert.False(budget.TryAcquireRetry(options));

        // Second 0 has left the window: its requests and its retries are gone.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(0, budget.RequestsInWindow(options.Window));
        Assert.Equal(0, budget.RetriesInWindow(options.Window));
        Assert.False(budget.TryAcquireRetry(options));

        Record(budget, 40);
        Assert.Equal(10, AcquireAll(budget, options, 100));
    }

    [Fact]
    public void TryAcquireRetry_WindowSpansSeveralSeconds_SumsTheirBuckets()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.1, minPerSecond: 0, windowSeconds: 3);
        for (var second = 0; second < 5; second++)
        {
            Record(budget, 10);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // At second 5 the window holds seconds 3, 4, 5: 20 requests allow 20 / 9 = 2.2 retries.
        Assert.Equal(20, budget.RequestsInWindow(options.Window));
        Assert.Equal(3, AcquireAll(budget, options, 100));
        Assert.Equal(50, budget.RequestsInWindow(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void RecordRequest_AfterTheRingWrapsAround_StartsTheBucketAfresh()
    {
        var budget = new RetryBudget(_time);
        Record(budget, 10);

        // 64 seconds later the same bucket comes round again.
        _time.Advance(TimeSpan.FromSeconds(64));
        Assert.Equal(0, budget.RequestsInWindow(TimeSpan.FromSeconds(60)));
        budget.RecordRequest();
        Assert.Equal(1, budget.RequestsInWindow(TimeSpan.FromSeconds(1)));
        Assert.Equal(1, budget.RequestsInWindow(TimeSpan.FromSeconds(60)));
    }

    [Fact]
    public void TryAcquireRetry_LongIdleThenTraffic_HasNoStaleCounts()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 1, windowSeconds: 10);
        Record(budget, 1000);
        Assert.Equal(250, AcquireAll(budget, options, 1000));

        _time.Advance(TimeSpan.FromDays(3));
        Assert.Equal(10, AcquireAll(budget, options, 1000));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-5_000, 1)]
    [InlineData(1, 1)]
    [InlineData(1_000, 1)]
    [InlineData(1_001, 2)]
    [InlineData(1_500, 2)]
    [InlineData(10_000, 10)]
    [InlineData(60_000, 60)]
    [InlineData(3_600_000, 60)]
    public void WindowSeconds_RoundsUpAndClamps(long milliseconds, int expected)
        => Assert.Equal(expected, RetryBudget.WindowSeconds(TimeSpan.FromMilliseconds(milliseconds)));

    [Fact]
    public void TryAcquireRetry_WindowAboveSixtySeconds_UsesSixty()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0, minPerSecond: 1, windowSeconds: 600);

        Assert.Equal(60, AcquireAll(budget, options, 1000));
    }

    [Fact]
    public void TryAcquireRetry_ManyThreads_NeverGrantsMoreThanTheBudget()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.1, minPerSecond: 3, windowSeconds: 10);
        Record(budget, 1000);
        const int Bound = 112; // the ratio's 1000 / 9 = 111.1 is above the floor of 30

        var granted = RunConcurrently(8, _ => AcquireAll(budget, options, 2_000));

        Assert.InRange(granted, 1, Bound);
        Assert.Equal(granted, budget.RetriesInWindow(options.Window));
    }

    [Fact]
    public void TryAcquireRetry_ManyThreadsRecordingAndRetrying_StaysWithinTheFinalBound()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.25, minPerSecond: 0, windowSeconds: 10);

        var granted = RunConcurrently(8, _ =>
        {
            var mine = 0;
            for (var i = 0; i < 20_000; i++)
            {
                budget.RecordRequest();
                if (budget.TryAcquireRetry(options))
                {
                    mine++;
                }
            }

            return mine;
        });

        var requests = budget.RequestsInWindow(options.Window);
        Assert.Equal(8 * 20_000, requests);
        Assert.InRange(granted, 1, (long)Math.Ceiling(requests * options.Ratio / (1 - options.Ratio)));
        Assert.Equal(granted, budget.RetriesInWindow(options.Window));
    }

    [Fact]
    public void TryAcquireRetry_ManyThreadsWhileTheClockMoves_NoWindowExceedsTheFloor()
    {
        // The workers drive the clock themselves, so seconds change in the middle of other workers' calls.
        var clock = new FirstReadTimeProvider(_time);
        var budget = new RetryBudget(clock);
        var options = Budget(ratio: 0, minPerSecond: 5, windowSeconds: 2);

        var grantedSeconds = new System.Collections.Concurrent.ConcurrentBag<long>();
        var granted = RunConcurrently(4, _ =>
        {
            var mine = 0;
            for (var i = 0; i < 50_000; i++)
            {
                if (i % 8 == 0)
                {
                    _time.Advance(TimeSpan.FromMilliseconds(3));
                }

                // The budget's first clock read picks the bucket the retry is counted in.
                FirstReadTimeProvider.Reset();
                if (budget.TryAcquireRetry(options))
                {
                    grantedSeconds.Add(FirstReadTimeProvider.FirstRead!.Value / _time.TimestampFrequency);
                    mine++;
                }
            }

            return mine;
        });
        var perSecond = new Dictionary<long, int>();
        foreach (var second in grantedSeconds)
        {
            perSecond[second] = perSecond.GetValueOrDefault(second) + 1;
        }

        Assert.True(perSecond.Count > 20, $"{granted} granted over {perSecond.Count} seconds");
        foreach (var (second, count) in perSecond)
        {
            // Windows are the current second and the one before it.
            Assert.InRange(count + perSecond.GetValueOrDefault(second - 1), 1, 10);
            Assert.InRange(count + perSecond.GetValueOrDefault(second + 1), 1, 10);
        }
    }

    [Fact]
    public void TryAcquireRetry_ClockMovesToANewSecondDuringTheCall_ChecksTheNewerWindowToo()
    {
        // Deterministic version of a caller preempted between reading the clock and counting its retry:
        // it reads second 0, but by the time it checks, second 1 has filled the window [0, 1].
        var clock = new StaleOnceTimeProvider(_time);
        var budget = new RetryBudget(clock);
        var options = Budget(ratio: 0, minPerSecond: 5, windowSeconds: 2);
        _time.Advance(TimeSpan.FromMilliseconds(500));
        var staleTimestamp = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, AcquireAll(budget, options, 100));

        clock.ReturnOnce(staleTimestamp);

        Assert.False(budget.TryAcquireRetry(options));
        Assert.Equal(10, budget.RetriesInWindow(options.Window));
    }

    [Fact]
    public void TryAcquireRetry_ClockReadLongBeforeTheCall_IsRefusedWithoutCounting()
    {
        var clock = new StaleOnceTimeProvider(_time);
        var budget = new RetryBudget(clock);
        var options = Budget(ratio: 0, minPerSecond: 5, windowSeconds: 2);
        var staleTimestamp = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromSeconds(64));

        // Second 64 takes over the bucket of second 0.
        Assert.True(budget.TryAcquireRetry(options));
        clock.ReturnOnce(staleTimestamp);

        Assert.False(budget.TryAcquireRetry(options));
        Assert.Equal(1, budget.RetriesInWindow(options.Window));
    }

    [Fact]
    public void TryAcquireRetry_EveryRequestFails_RetriesStayAtRatioOfUpstreamRequests()
    {
        // A hard-down upstream: each request is retried for as long as the budget lets it. The default floor of
        // 10/s does not add to the ratio's 2,500 retries.
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 0.2, minPerSecond: 10, windowSeconds: 10);
        var retries = 0;
        for (var i = 0; i < 10_000; i++)
        {
            budget.RecordRequest();
            while (budget.TryAcquireRetry(options))
            {
                retries++;
            }
        }

        Assert.Equal(2_500, retries);
        Assert.Equal(0.2, retries / (10_000.0 + retries), 3);
    }

    [Fact]
    public void TryAcquireRetry_RatioOne_IsNoBound()
    {
        var budget = new RetryBudget(_time);
        var options = Budget(ratio: 1, minPerSecond: 0, windowSeconds: 10);
        Record(budget, 1);

        Assert.Equal(1000, AcquireAll(budget, options, 1000));
    }

    [Fact]
    public void Constructor_NullTimeProvider_Throws()
        => Assert.Throws<ArgumentNullException>(() => new RetryBudget(null!));

    private static BudgetOptions Budget(double ratio, int minPerSecond, int windowSeconds) => new()
    {
        Ratio = ratio,
        MinPerSecond = minPerSecond,
        Window = TimeSpan.FromSeconds(windowSeconds),
    };

    private static void Record(RetryBudget budget, int requests)
    {
        for (var i = 0; i < requests; i++)
        {
            budget.RecordRequest();
        }
    }

    private static int AcquireAll(RetryBudget budget, BudgetOptions options, int tries)
    {
        var granted = 0;
        for (var i = 0; i < tries; i++)
        {
            if (budget.TryAcquireRetry(options))
            {
                granted++;
            }
        }

        return granted;
    }

    private static long RunConcurrently(int threadCount, Func<int, int> work)
    {
        long total = 0;
        using var start = new Barrier(threadCount);
        var threads = new Thread[threadCount];
        for (var t = 0; t < threadCount; t++)
        {
            var index = t;
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                Interlocked.Add(ref total, work(index));
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        return total;
    }

    /// <summary>Remembers, per thread, the first timestamp read since <see cref="Reset"/>.</summary>
    private sealed class FirstReadTimeProvider(TimeProvider inner) : TimeProvider
    {
        [ThreadStatic]
        private static long? _firstRead;

        public static long? FirstRead => _firstRead;

        public override long TimestampFrequency => inner.TimestampFrequency;

        public static void Reset() => _firstRead = null;

        public override long GetTimestamp()
        {
            var timestamp = inner.GetTimestamp();
            _firstRead ??= timestamp;
            return timestamp;
        }
    }

    /// <summary>Returns one given (stale) timestamp on the next read, then the real clock again.</summary>
    private sealed class StaleOnceTimeProvider(TimeProvider inner) : TimeProvider
    {
        private long? _next;

        public override long TimestampFrequency => inner.TimestampFrequency;

        public void ReturnOnce(long timestamp) => _next = timestamp;

        public override long GetTimestamp()
        {
            var timestamp = _next ?? inner.GetTimestamp();
            _next = null;
            return timestamp;
        }
    }
}
