using Sidecar.Simulation;

namespace Sidecar.Tests.Simulation;

/// <summary><see cref="SimulatedUpstream"/> on the virtual clock: its capacity queue, its outage window, its draws.</summary>
public sealed class SimulatedUpstreamTests
{
    private static readonly UpstreamModel Healthy = new()
    {
        FailureRate = 0,
        SlowRate = 0,
        RetryAfter = null,
        Latency = LatencyModel.Fixed(TimeSpan.FromMilliseconds(10)),
    };

    [Fact]
    public void Arrive_MoreThanCapacity_QueuedSoLatencyGrowsWithLoad()
    {
        var clock = new VirtualClock();
        var upstream = new SimulatedUpstream(Healthy with { Capacity = 2 }, clock, new Random(1));
        var answeredAt = new TimeSpan?[5];
        var calls = Enumerable.Range(0, 5).Select(_ => new UpstreamCall()).ToList();
        calls.ForEach(upstream.Arrive);

        Assert.Equal(5, upstream.InFlight);
        Assert.Equal(5, upstream.TakePeak());
        while (clock.AdvanceToNext())
        {
            for (var i = 0; i < calls.Count; i++)
            {
                answeredAt[i] ??= calls[i].Task.IsCompleted ? clock.Elapsed : null;
            }
        }

        Assert.Equal([10, 10, 20, 20, 30], answeredAt.Select(t => t!.Value.TotalMilliseconds));
        Assert.All(calls, c => Assert.Equal(200, Answer(c).Status));
        Assert.Equal(0, upstream.InFlight);
    }

    [Fact]
    public void Arrive_NoCapacityLimit_EveryCallServedAtOnce()
    {
        var clock = new VirtualClock();
        var upstream = new SimulatedUpstream(Healthy, clock, new Random(1));
        var calls = Enumerable.Range(0, 100).Select(_ => new UpstreamCall()).ToList();
        calls.ForEach(upstream.Arrive);

        clock.AdvanceToNext();
        while (clock.AdvanceToNext())
        {
        }

        Assert.Equal(TimeSpan.FromMilliseconds(10), clock.Elapsed);
        Assert.All(calls, c => Assert.True(c.Task.IsCompleted));
    }

    [Fact]
    public void Arrive_AbandonedWhileQueued_StillHoldsItsPlaceButIsNoSuccess()
    {
        var clock = new VirtualClock();
        var upstream = new SimulatedUpstream(Healthy with { Capacity = 1 }, clock, new Random(1));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(5), clock);
        var first = new UpstreamCall();
        first.AbandonOn(timeout.Token);
        var second = new UpstreamCall();

        upstream.Arrive(first);
        upstream.Arrive(second);
        while (clock.AdvanceToNext())
        {
        }

        Assert.Equal(UpstreamAnswerKind.Abandoned, Answer(first).Kind);
        Assert.Equal(200, Answer(second).Status);
        Assert.Equal(TimeSpan.FromMilliseconds(20), clock.Elapsed);
        Assert.Equal(2, upstream.Requests);
        Assert.Equal(1, upstream.Successes);
    }

    [Fact]
    public void Arrive_DuringTheOutage_RefusedAtOnceAndServedAfterIt()
    {
        var clock = new VirtualClock();
        var upstream = new SimulatedUpstream(Healthy with { Outage = new OutageWindow(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)) }, clock, new Random(1));
        var before = new UpstreamCall();
        var during = new UpstreamCall();
        var after = new UpstreamCall();

        upstream.Arrive(before);
        clock.Schedule(TimeSpan.FromSeconds(2).Ticks, _ => upstream.Arrive(during), null);
        clock.Schedule(TimeSpan.FromSeconds(3).Ticks, _ => upstream.Arrive(after), null);
        while (clock.AdvanceToNext())
        {
        }

        Assert.Equal(UpstreamAnswerKind.Response, Answer(before).Kind);
        Assert.Equal(UpstreamAnswerKind.Refused, Answer(during).Kind);
        Assert.Equal(UpstreamAnswerKind.Response, Answer(after).Kind);
        Assert.Equal(2, upstream.Requests);
    }

    [Fact]
    public void Arrive_FailureRateAndRetryAfterRange_DrawnInTheirShares()
    {
        var clock = new VirtualClock();
        var model = Healthy with { FailureRate = 0.25, FailureStatus = 429, RetryAfter = new RetryAfterModel(1, 3) };
        var upstream = new SimulatedUpstream(model, clock, new Random(7));
        var calls = Enumerable.Range(0, 4000).Select(_ => new UpstreamCall()).ToList();
        calls.ForEach(upstream.Arrive);
        while (clock.AdvanceToNext())
        {
        }

        var failures = calls.Where(c => Answer(c).Status == 429).ToList();
        Assert.InRange(failures.Count, 900, 1100);
        Assert.Equal(["1", "2", "3"], failures.Select(f => Answer(f).RetryAfter!).Distinct().Order(StringComparer.Ordinal));
        Assert.All(calls.Except(failures), c => Assert.Null(Answer(c).RetryAfter));
    }

    /// <summary>The call's answer, which the clock has already given.</summary>
    private static UpstreamAnswer Answer(UpstreamCall call)
    {
        Assert.True(call.Task.IsCompletedSuccessfully);
        return call.Task.GetAwaiter().GetResult();
    }
}
