using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Retries;

/// <summary>
/// <see cref="RetryDecider"/> on a fake clock: which refusal wins when several apply (cheapest and most final first,
/// the budget last), which slots a refusal gives back, and how long a scheduled retry waits.
/// </summary>
public sealed class RetryDeciderTests : IDisposable
{
    private const string Yaml = """
        limits: { max_waiting_retries: 8 }
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            budget: { enabled: false }
          single:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            budget: { enabled: false }
            max_concurrent_retries: 1
          broke:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            budget: { ratio: 0, min_per_second: 0 }
        routes:
          - { name: r, match: { path: "/r/{**rest}" }, cluster: app, policy: p }
          - { name: single, match: { path: "/s/{**rest}" }, cluster: app, policy: single }
          - { name: broke, match: { path: "/b/{**rest}" }, cluster: app, policy: broke }
        """;

    private readonly RetryHarness _harness = new(Yaml);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void TryScheduleRetry_RetryableAttempt_SchedulesTheBackoffDelayWithItsReason()
    {
        var state = _harness.NewRequest("r");

        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));

        Assert.Equal(AttemptVerdict.Retry, state.Verdict);
        Assert.Equal(TimeSpan.FromMilliseconds(100), state.RetryDelay);
        Assert.Equal("503", state.RetryReason);
        Assert.True(state.HoldsRetrySlot);
        Assert.Equal(1, state.Plan.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public void TryScheduleRetry_ServerDelay_ReplacesTheBackoff()
    {
        var state = _harness.NewRequest("r");

        Assert.True(_harness.Decider.TryScheduleRetry(state, "429", requiresIdempotency: true, TimeSpan.FromSeconds(2), serverForbids: false, out _));

        Assert.Equal(TimeSpan.FromSeconds(2), state.RetryDelay);
    }

    [Fact]
    public void TryScheduleRetry_LastAttemptAndEveryOtherRefusal_ExhaustedComesFirstAndIsNoSkip()
    {
        var state = _harness.NewRequest("r", isIdempotent: false, maxAttempts: 1);
        state.BodyReplayable = false;

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: true, out var outcome));

        Assert.Equal(RequestOutcome.Exhausted, outcome);
        Assert.Null(_harness.Collect("r"));
    }

    [Fact]
    public void TryScheduleRetry_PushbackOnANonIdempotentRequest_SkipsAsPushback()
    {
        var state = _harness.NewRequest("r", isIdempotent: false);
        state.BodyReplayable = false;

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: true, out var outcome));

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal("pushback=1", _harness.Collect("r")!.SkipReasons);
    }

    [Fact]
    public void TryScheduleRetry_NonIdempotentWithUnreplayableBody_SkipsAsMethod()
    {
        var state = _harness.NewRequest("r", isIdempotent: false);
        state.BodyReplayable = false;

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal("method=1", _harness.Collect("r")!.SkipReasons);
    }

    [Fact]
    public void TryScheduleRetry_NonIdempotentButNeverSent_Retries()
    {
        var state = _harness.NewRequest("r", isIdempotent: false);

        Assert.True(_harness.Decider.TryScheduleRetry(state, RetryReason.ConnectFailure, requiresIdempotency: false, serverDelay: null, serverForbids: false, out _));

        Assert.Equal(RetryReason.ConnectFailure, state.RetryReason);
    }

    [Fact]
    public void TryScheduleRetry_BodyNotReplayable_SkipsAsBodyNotReplayable()
    {
        var state = _harness.NewRequest("r");
        state.BodyReplayable = false;

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal("body_not_replayable=1", _harness.Collect("r")!.SkipReasons);
    }

    [Fact]
    public void TryScheduleRetry_BodyShedUnderMemoryPressure_SkipsAsOverloaded()
    {
        var state = _harness.NewRequest("r");
        state.BodyReplayable = false;
        state.BufferingShed = true;

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));

        Assert.Contains("sidecar_retries_skipped_total{reason=\"overloaded\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
        Assert.Equal("overloaded=1", _harness.Collect("r")!.SkipReasons);
    }

    [Fact]
    public void TryScheduleRetry_DelayReachesTheDeadline_SkipsAsDeadlineWithoutTakingASlot()
    {
        var state = _harness.NewRequest("r", deadline: TimeSpan.FromMilliseconds(300));
        _harness.Time.Advance(TimeSpan.FromMilliseconds(200));

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.DeadlineExceeded, outcome);
        Assert.Equal("deadline=1", _harness.Collect("r")!.SkipReasons);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
        Assert.False(state.HoldsRetrySlot);
    }

    [Fact]
    public void TryScheduleRetry_DelayEndsBeforeTheDeadline_Retries()
    {
        var state = _harness.NewRequest("r", deadline: TimeSpan.FromMilliseconds(300));
        _harness.Time.Advance(TimeSpan.FromMilliseconds(199));

        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));
    }

    [Fact]
    public void TryScheduleRetry_Draining_RetriesAtOnceWithoutAWaitSlot()
    {
        _harness.Drain.Trigger();
        var state = _harness.NewRequest("r");

        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: TimeSpan.FromSeconds(5), serverForbids: false, out _));

        Assert.Equal(TimeSpan.Zero, state.RetryDelay);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public void TryScheduleRetry_WaitSlotsTaken_SkipsAsBackoffCapBeforeTheConcurrencyCap()
    {
        for (var i = 0; i < 8; i++)
        {
            Assert.True(_harness.Decider.TryScheduleRetry(_harness.NewRequest("r"), "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));
        }

        _ = _harness.Collect("r");
        var state = _harness.NewRequest("single");
        Assert.True(_harness.Route("single").Retry!.RetrySlots.TryEnter());

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        Assert.Equal("backoff_cap=1", _harness.Collect("single")!.SkipReasons);
    }

    [Fact]
    public void TryScheduleRetry_RetrySlotsTaken_SkipsAsConcurrencyAndGivesTheWaitSlotBack()
    {
        var first = _harness.NewRequest("single");
        Assert.True(_harness.Decider.TryScheduleRetry(first, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));
        var second = _harness.NewRequest("single");

        Assert.False(_harness.Decider.TryScheduleRetry(second, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        Assert.Equal("concurrency=1", _harness.Collect("single")!.SkipReasons);
        Assert.False(second.HoldsRetrySlot);
        Assert.Equal(1, second.Plan.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public async Task TryScheduleRetry_RetryOfTheSameRequest_KeepsItsRetrySlot()
    {
        var state = _harness.NewRequest("single");
        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));
        var wait = _harness.Decider.WaitAsync(state, CancellationToken.None).AsTask();
        _harness.Time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.True(await wait);
        state.BeginAttempt(2);

        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));

        Assert.Equal(1, _harness.Route("single").Retry!.RetrySlots.Current);
    }

    [Fact]
    public void TryScheduleRetry_BudgetEmpty_RefusedLastAndGivesTheWaitSlotBack()
    {
        var state = _harness.NewRequest("broke");

        Assert.False(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out var outcome));

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        var summary = _harness.Collect("broke")!;
        Assert.Equal(1, summary.BudgetRefused);
        Assert.Equal(0, summary.Skipped);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"app\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WaitAsync_ScheduledDelay_EndsWhenTheClockPassesItAndFreesTheWaitSlot()
    {
        var state = _harness.NewRequest("r");
        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));

        var wait = _harness.Decider.WaitAsync(state, CancellationToken.None).AsTask();
        _harness.Time.Advance(TimeSpan.FromMilliseconds(99));
        Assert.False(wait.IsCompleted);
        _harness.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.True(await wait);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public async Task WaitAsync_DrainDuringTheWait_EndsAtOnceAndRetries()
    {
        var state = _harness.NewRequest("r");
        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, TimeSpan.FromMinutes(1), serverForbids: false, out _));
        var wait = _harness.Decider.WaitAsync(state, CancellationToken.None).AsTask();
        Assert.False(wait.IsCompleted);

        _harness.Drain.Trigger();

        Assert.True(await wait);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public async Task WaitAsync_CallerLeavesDuringTheWait_ReturnsFalseAndFreesTheWaitSlot()
    {
        var state = _harness.NewRequest("r");
        Assert.True(_harness.Decider.TryScheduleRetry(state, "503", requiresIdempotency: true, serverDelay: null, serverForbids: false, out _));
        using var caller = new CancellationTokenSource();
        var wait = _harness.Decider.WaitAsync(state, caller.Token).AsTask();

        await caller.CancelAsync();

        Assert.False(await wait);
        Assert.Equal(0, state.Plan.Cluster.WaitingRetries.Current);
    }
}
