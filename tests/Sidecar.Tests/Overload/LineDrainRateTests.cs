using Microsoft.Extensions.Time.Testing;
using Sidecar.Overload;

namespace Sidecar.Tests.Overload;

/// <summary>The rate the line of waiting requests moves at, and a newcomer's expected wait from it.</summary>
public sealed class LineDrainRateTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void ExpectedWait_FewerThanMinHandOffs_NoEstimate()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        Assert.Null(line.ExpectedWait(10));

        // One request ends early, the next ones seconds later: too few to tell the rate.
        line.HandedOff();
        _time.Advance(TimeSpan.FromSeconds(5));
        HandOffs(line, LineDrainRate.MinHandOffs - 1, TimeSpan.Zero);
        Assert.Null(line.ExpectedWait(10));

        line.HandedOff();
        Assert.NotNull(line.ExpectedWait(10));
    }

    [Fact]
    public void ExpectedWait_TwoHandOffsASecond_PlaceInLineOverTheRate()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        // The time before the first hand-off does not count: slots free in waves.
        _time.Advance(TimeSpan.FromSeconds(4));
        line.HandedOff();
        HandOffs(line, 16, TimeSpan.FromMilliseconds(500));

        // 16 hand-offs in 8 s: 2 a second; 9 ahead, so 10 to go.
        Assert.Equal(TimeSpan.FromSeconds(5), line.ExpectedWait(9));
        Assert.Equal(TimeSpan.FromSeconds(0.5), line.ExpectedWait(0));
    }

    [Fact]
    public void ExpectedWait_TheLineStalls_GrowsWithTheTimeWithoutAHandOff()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        line.HandedOff();
        HandOffs(line, 16, TimeSpan.FromSeconds(1));
        AssertSeconds(1, line.ExpectedWait(0));

        // Measured over the last 10 s: 10 hand-offs in 13 s now.
        _time.Advance(TimeSpan.FromSeconds(3));

        AssertSeconds(1.3, line.ExpectedWait(0));
    }

    [Fact]
    public void ExpectedWait_TimeWithNobodyWaiting_DoesNotCount()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        line.HandedOff();
        HandOffs(line, 16, TimeSpan.FromSeconds(1));
        line.Emptied();

        _time.Advance(TimeSpan.FromHours(1));
        AssertSeconds(1, line.ExpectedWait(0));
        line.Joined(formed: true);
        AssertSeconds(1, line.ExpectedWait(0));

        _time.Advance(TimeSpan.FromSeconds(1));
        AssertSeconds(1.1, line.ExpectedWait(0));
    }

    [Fact]
    public void ExpectedWait_TimeWhileMemoryPressureHoldsTheLine_DoesNotCount()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        line.HandedOff();
        HandOffs(line, 16, TimeSpan.FromSeconds(1));

        line.Held(true);
        _time.Advance(TimeSpan.FromSeconds(10));
        AssertSeconds(1, line.ExpectedWait(0));

        line.Held(false);
        _time.Advance(TimeSpan.FromSeconds(1));
        AssertSeconds(1.1, line.ExpectedWait(0));
    }

    [Fact]
    public void ExpectedWait_TheLineSpeedsUp_FollowsWithinAWindow()
    {
        var line = new LineDrainRate(_time);
        line.Joined(formed: true);
        line.HandedOff();
        for (var i = 0; i < 30; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            line.HandedOff();
        }

        AssertSeconds(10, line.ExpectedWait(9));

        // Then ten a second for a window: the estimate is mostly the new rate.
        for (var i = 0; i < 100; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            line.HandedOff();
        }

        Assert.InRange(line.ExpectedWait(9)!.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
    }

    /// <summary><paramref name="count"/> hand-offs, one every <paramref name="every"/>.</summary>
    private void HandOffs(LineDrainRate line, int count, TimeSpan every)
    {
        for (var i = 0; i < count; i++)
        {
            _time.Advance(every);
            line.HandedOff();
        }
    }

    private static void AssertSeconds(double expected, TimeSpan? actual)
    {
        Assert.NotNull(actual);
        Assert.InRange(actual.Value.TotalSeconds, expected - 0.001, expected + 0.001);
    }
}
