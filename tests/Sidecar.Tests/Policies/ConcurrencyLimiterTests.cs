using Sidecar.Policies;

namespace Sidecar.Tests.Policies;

public sealed class ConcurrencyLimiterTests
{
    [Fact]
    public void TryEnter_UpToLimit_SucceedsThenFails()
    {
        var limiter = new ConcurrencyLimiter(2);

        Assert.True(limiter.TryEnter());
        Assert.True(limiter.TryEnter());
        Assert.False(limiter.TryEnter());
        Assert.Equal(2, limiter.Current);
        Assert.Equal(2, limiter.Limit);
    }

    [Fact]
    public void Exit_FreesASlot()
    {
        var limiter = new ConcurrencyLimiter(1);
        Assert.True(limiter.TryEnter());
        Assert.False(limiter.TryEnter());

        limiter.Exit();

        Assert.Equal(0, limiter.Current);
        Assert.True(limiter.TryEnter());
    }

    [Fact]
    public void TryEnter_LimitZero_NeverEnters()
    {
        var limiter = new ConcurrencyLimiter(0);

        Assert.False(limiter.TryEnter());
        Assert.Equal(0, limiter.Current);
    }

    [Fact]
    public void TryEnter_ExplicitLimit_OverridesTheConstructorLimit()
    {
        var limiter = new ConcurrencyLimiter(1);

        Assert.True(limiter.TryEnter(3));
        Assert.True(limiter.TryEnter(3));
        Assert.False(limiter.TryEnter());
        Assert.True(limiter.TryEnter(3));
        Assert.False(limiter.TryEnter(3));
        Assert.False(limiter.TryEnter(-1));
    }

    [Fact]
    public void Constructor_NegativeLimit_Throws()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ConcurrencyLimiter(-1));

    [Fact]
    public void TryEnter_ManyThreads_NeverHoldsMoreThanTheLimit()
    {
        const int Limit = 3;
        const int ThreadCount = 8;
        var limiter = new ConcurrencyLimiter(Limit);
        var inside = 0;
        var maxInside = 0;
        long entered = 0;
        using var start = new Barrier(ThreadCount);
        var threads = new Thread[ThreadCount];
        for (var t = 0; t < ThreadCount; t++)
        {
            threads[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (var i = 0; i < 100_000; i++)
                {
                    if (!limiter.TryEnter())
                    {
                        continue;
                    }

                    var now = Interlocked.Increment(ref inside);
                    var seen = Volatile.Read(ref maxInside);
                    while (now > seen)
                    {
                        var previous = Interlocked.CompareExchange(ref maxInside, now, seen);
                        if (previous == seen)
                        {
                            break;
                        }

                        seen = previous;
                    }

                    Interlocked.Increment(ref entered);
                    Interlocked.Decrement(ref inside);
                    limiter.Exit();
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            thread.Join();
        }

        Assert.InRange(maxInside, 1, Limit);
        Assert.True(entered > 0);
        Assert.Equal(0, limiter.Current);
    }
}
