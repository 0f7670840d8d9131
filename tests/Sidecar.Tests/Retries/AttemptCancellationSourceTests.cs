using Microsoft.Extensions.Time.Testing;
using Sidecar.Retries;

namespace Sidecar.Tests.Retries;

public sealed class AttemptCancellationSourceTests
{
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    [Fact]
    public void Create_Timeout_CancelsWhenTheInjectedClockReachesIt()
    {
        var time = new FakeTimeProvider();
        using var source = AttemptCancellationSource.Create(CancellationToken.None, TimeSpan.FromSeconds(5), time);

        time.Advance(TimeSpan.FromSeconds(5) - OneTick);
        Assert.False(source.IsCancellationRequested);

        time.Advance(OneTick);
        Assert.True(source.IsCancellationRequested);
    }

    [Fact]
    public void Create_NoTimeout_NeverCancelsOnItsOwn()
    {
        var time = new FakeTimeProvider();
        using var source = AttemptCancellationSource.Create(CancellationToken.None, null, time);

        time.Advance(TimeSpan.FromDays(2));

        Assert.False(source.IsCancellationRequested);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void Create_TimeoutAlreadyUsedUp_IsCancelledAtOnce(int seconds)
    {
        using var source = AttemptCancellationSource.Create(CancellationToken.None, TimeSpan.FromSeconds(seconds), new FakeTimeProvider());

        Assert.True(source.IsCancellationRequested);
    }

    [Fact]
    public void Create_CallerLeaves_CancelsTheAttempt()
    {
        using var caller = new CancellationTokenSource();
        using var source = AttemptCancellationSource.Create(caller.Token, TimeSpan.FromMinutes(1), new FakeTimeProvider());

        caller.Cancel();

        Assert.True(source.IsCancellationRequested);
    }

    [Fact]
    public void Create_CallerAlreadyGone_IsCancelledAtOnce()
    {
        using var caller = new CancellationTokenSource();
        caller.Cancel();

        using var source = AttemptCancellationSource.Create(caller.Token, null, new FakeTimeProvider());

        Assert.True(source.IsCancellationRequested);
    }

    [Fact]
    public void Dispose_ThenCallerLeaves_NothingHappens()
    {
        using var caller = new CancellationTokenSource();
        var source = AttemptCancellationSource.Create(caller.Token, TimeSpan.FromMinutes(1), new FakeTimeProvider());

        source.Dispose();
        caller.Cancel();

        Assert.False(source.IsCancellationRequested);
    }

    [Fact]
    public void CancelAfterInfinite_DisarmsTheFakeClockTimer()
    {
        // RetryState.Commit disarms the per-try timer this way once a response goes to the caller.
        var time = new FakeTimeProvider();
        using var source = AttemptCancellationSource.Create(CancellationToken.None, TimeSpan.FromSeconds(5), time);

        source.CancelAfter(Timeout.InfiniteTimeSpan);
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.False(source.IsCancellationRequested);
    }
}
