using Sidecar.Forwarding;
using Microsoft.Extensions.Time.Testing;

namespace Sidecar.Tests.Forwarding;

public sealed class LogThrottleTests
{
    [Fact]
    public void TryAcquire_OncePerInterval()
    {
        var time = new FakeTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromMinutes(1));

        Assert.True(throttle.TryAcquire());
        Assert.False(throttle.TryAcquire());
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(throttle.TryAcquire());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryAcquire());
        Assert.False(throttle.TryAcquire());
    }

    [Fact]
    public void TryAcquire_ManyThreadsAtOnce_OneWins()
    {
        var throttle = new LogThrottle(new FakeTimeProvider(), TimeSpan.FromMinutes(1));
        var wins = 0;

        Parallel.For(0, 1000, _ =>
        {
            if (throttle.TryAcquire())
            {
                Interlocked.Increment(ref wins);
            }
        });

        Assert.Equal(1, wins);
    }
}
