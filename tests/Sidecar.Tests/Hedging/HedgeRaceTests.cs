using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Configuration;
using Sidecar.Hedging;
using Sidecar.Retries;
using Sidecar.Telemetry;
using static Sidecar.TestSupport.ScriptedHedgeSender;

namespace Sidecar.Tests.Hedging;

/// <summary>
/// <see cref="HedgeRace"/> driven through its seam by a simulated upstream (<see cref="ScriptedHedgeSender"/>) on a
/// fake clock, with the real <see cref="RetryDecider"/>: when another attempt starts, who wins, every limit that stops
/// a hedge, and what the caller is answered when none wins, without a socket or an HttpContext. Time moves only when
/// the test moves it, once the timer it means to fire is armed.
/// </summary>
public sealed class HedgeRaceTests : IDisposable
{
    private const string Yaml = """
        limits: { max_waiting_retries: 8 }
        clusters:
          app: { destinations: ["http://127.0.0.1:1", "http://127.0.0.1:2", "http://127.0.0.1:3"] }
        policies:
          h:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { enabled: false }
            hedge: { delay: 50ms, max_extra: 2 }
          two:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { enabled: false }
            hedge: { delay: 50ms, max_extra: 1 }
          broke:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { ratio: 0, min_per_second: 0 }
            hedge: { delay: 50ms, max_extra: 2 }
          single:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { enabled: false }
            max_concurrent_retries: 1
            hedge: { delay: 50ms, max_extra: 2 }
          short:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { enabled: false }
            timeout: 120ms
            hedge: { delay: 50ms, max_extra: 1 }
        routes:
          - { name: h, match: { path: "/h/{**rest}" }, cluster: app, policy: h }
          - { name: two, match: { path: "/t/{**rest}" }, cluster: app, policy: two }
          - { name: broke, match: { path: "/b/{**rest}" }, cluster: app, policy: broke }
          - { name: single, match: { path: "/s/{**rest}" }, cluster: app, policy: single }
          - { name: short, match: { path: "/d/{**rest}" }, cluster: app, policy: short }
        """;

    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private readonly RetryHarness _harness = new(Yaml);
    private readonly HedgeRace _race;

    public HedgeRaceTests()
    {
        _harness.Random.Value = 0;
        _race = new HedgeRace(_harness.Decider, _harness.Time, _harness.Random, _harness.Metrics.Metrics, NullLoggerFactory.Instance);
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task RunAsync_SecondAttemptAnswersFirst_HedgeWinsAndTheFirstIsCancelled()
    {
        var sender = Sender(new Respond(200, Ms(200)), new Respond(200, Ms(10)));
        var state = _harness.NewRequest("h");
        state.Trail = new AttemptTrail(explain: true, AccessLogMode.Off);

        var run = _race.RunAsync(state, sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.ArmedAsync(Ms(200)).WaitAsync(Safety);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await sender.ArrivedAsync(2);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10));

        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await run.WaitAsync(Safety));
        Assert.Equal([new SentRecord(1, 0, TimeSpan.Zero), new SentRecord(2, 1, Delay)], sender.Sent);
        Assert.Equal((2, 200, 2), sender.Relayed);
        Assert.Equal([1], sender.Cancelled);
        Assert.Empty(sender.Answers);
        Assert.Equal(RequestOutcome.SuccessAfterRetry, state.Trail.Decision);
        Assert.Equal(
            [
                new AttemptRecord(1, Destination(0), 0, AttemptResult.Cancelled, Ms(60)),
                new AttemptRecord(2, Destination(1), 200, AttemptResult.Status2xx, Ms(10)),
            ],
            state.Trail.Attempts);
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"cancelled\",route=\"h\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FirstAttemptAnswersBeforeTheDelay_NoExtraAttempt()
    {
        var sender = Sender(new Respond(200, Ms(30)));

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.ArmedAsync(Delay).WaitAsync(Safety);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(30));

        Assert.Equal((RequestOutcome.Success, 1), await run.WaitAsync(Safety));
        _harness.Time.Advance(Delay * 4);
        Assert.Single(sender.Sent);
        Assert.Equal((1, 200, 1), sender.Relayed);
        Assert.Equal(1, _harness.Time.ArmedCount(Delay));
        Assert.DoesNotContain("sidecar_retries_total{reason=\"hedge\"", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_FirstAttemptFailsToConnect_ReplacementStartsAtOnceOnTheNextDestination()
    {
        var sender = Sender(new Fail(TransportErrorKind.ConnectFailure, Ms(10)), new Respond(200, Ms(10)));

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10));
        await sender.ArrivedAsync(2);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10), count: 2);

        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await run.WaitAsync(Safety));
        Assert.Equal([new SentRecord(1, 0, TimeSpan.Zero), new SentRecord(2, 1, Ms(10))], sender.Sent);
        Assert.Equal((2, 200, 2), sender.Relayed);
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"connect_failure\",route=\"h\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_LoneRetryableResponse_ReplacementAdmittedOnceByTheDecisionAndStartedAtOnce()
    {
        var sender = Sender(new Respond(503, Ms(10)), new Respond(200, Ms(10)));

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10));
        await sender.ArrivedAsync(2);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10), count: 2);

        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await run.WaitAsync(Safety));
        Assert.Equal(Ms(10), sender.Sent[1].At);
        Assert.Equal((2, 200, 2), sender.Relayed);
        // Admitted by the response's decision, started by the race without asking again: one hedge, no skip.
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("sidecar_retries_skipped_total", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BudgetRefusesTheHedge_AskedOnceCountedOnceAndNoLaterDelayAsksAgain()
    {
        var sender = Sender(new Respond(200, Ms(500)));

        var run = _race.RunAsync(_harness.NewRequest("broke"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await SkippedAsync("broke", "budget");
        _harness.Time.Advance(Delay * 4);
        _harness.Time.Advance(Ms(250));

        Assert.Equal((RequestOutcome.Success, 1), await run.WaitAsync(Safety));
        Assert.Single(sender.Sent);
        Assert.Equal(1, _harness.Time.ArmedCount(Delay));
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_retries_skipped_total{reason=\"budget\",route=\"broke\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"app\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("sidecar_retries_total{reason=\"hedge\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_TwoHedgesAdmitted_EachCountedOnce()
    {
        var sender = Sender(new Hang(), new Hang(), new Respond(200, Ms(10)));

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await sender.ArrivedAsync(2);
        await _harness.Time.AdvanceWhenArmedAsync(Delay, count: 2);
        await sender.ArrivedAsync(3);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10));

        Assert.Equal((RequestOutcome.SuccessAfterRetry, 3), await run.WaitAsync(Safety));
        Assert.Equal([0, 1, 2], Array.ConvertAll(sender.Sent, s => s.Destination));
        Assert.Equal([1, 2], sender.Cancelled.Order());
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 2", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ConcurrentRetriesCapTaken_NoHedgeStartsAndTheSlotIsUntouched()
    {
        var other = _harness.NewRequest("single");
        Assert.True(other.TryTakeRetrySlot());
        var sender = Sender(new Respond(200, Ms(100)));

        var run = _race.RunAsync(_harness.NewRequest("single"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await SkippedAsync("single", "concurrency");
        _harness.Time.Advance(Ms(50));

        Assert.Equal((RequestOutcome.Success, 1), await run.WaitAsync(Safety));
        Assert.Single(sender.Sent);
        Assert.Equal(1, _harness.Time.ArmedCount(Delay));
        Assert.Equal(1, _harness.Route("single").Retry!.RetrySlots.Current);
    }

    [Fact]
    public async Task RunAsync_LoneResponseSaysDoNotRetry_ItsResponseRelayedAfterOneAttempt()
    {
        var sender = Sender(new Respond(503, TimeSpan.Zero, ("x-sidecar-retry-pushback-ms", "-1"), ("Retry-After", "30")));

        Assert.Equal((RequestOutcome.NotRetryable, 1), await _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None).WaitAsync(Safety));
        Assert.Single(sender.Sent);
        Assert.Equal((1, 503, 1), sender.Relayed);
        Assert.Contains("sidecar_retries_skipped_total{reason=\"pushback\",route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_HedgeSaysDoNotRetryWhileTheFirstIsInFlight_NoFurtherHedgeStarts()
    {
        var sender = Sender(new Respond(200, Ms(300)), new Respond(503, Ms(10), ("x-sidecar-retry-pushback-ms", "-1")), new Respond(200, TimeSpan.Zero));

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await sender.ArrivedAsync(2);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(10));
        await SkippedAsync("h", "pushback");
        _harness.Time.Advance(Delay * 4);
        _harness.Time.Advance(Ms(40));

        Assert.Equal((RequestOutcome.Success, 2), await run.WaitAsync(Safety));
        Assert.Equal(2, sender.Sent.Length);
        Assert.Equal((1, 200, 2), sender.Relayed);
    }

    [Fact]
    public async Task RunAsync_LoneResponseWithRetryAfter_ReplacementWaitsForItHoldingAWaitSlot()
    {
        var sender = Sender(new Respond(503, TimeSpan.Zero, ("Retry-After", "1")), new Respond(200, TimeSpan.Zero));
        var waiting = _harness.Route("h").Retry!.Cluster.WaitingRetries;

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None);
        await _harness.Time.ArmedAsync(TimeSpan.FromSeconds(1)).WaitAsync(Safety);
        Assert.Equal(1, waiting.Current);
        _harness.Time.Advance(Ms(999));
        Assert.Single(sender.Sent);
        _harness.Time.Advance(Ms(1));

        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await run.WaitAsync(Safety));
        Assert.Equal(TimeSpan.FromSeconds(1), sender.Sent[1].At);
        Assert.Equal(0, waiting.Current);
        Assert.Contains("sidecar_retry_after_honored_total{route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeadlinePassesWithEveryAttemptInFlight_Answered504AsDeadlineExceeded()
    {
        var sender = Sender(new Hang(), new Hang());

        var run = _race.RunAsync(_harness.NewRequest("short", deadline: Ms(120)), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await sender.ArrivedAsync(2);
        // Attempt 2 gets what is left of the deadline: 70 ms.
        await _harness.Time.AdvanceWhenArmedAsync(Ms(70));

        Assert.Equal((RequestOutcome.DeadlineExceeded, 2), await run.WaitAsync(Safety));
        Assert.Equal((LoopAnswer.NoResponse, 2, RequestOutcome.DeadlineExceeded, true), Assert.Single(sender.Answers));
        Assert.Null(sender.Relayed);
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"per_try_timeout\",route=\"short\"} 2", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeadlineEndsTheOnlyAttemptBeforeTheDelay_NoHedgeAnd504()
    {
        var sender = Sender(new Hang(), new Respond(200, TimeSpan.Zero));

        var run = _race.RunAsync(_harness.NewRequest("h", deadline: Ms(40)), sender, CancellationToken.None);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(Ms(40));

        Assert.Equal((RequestOutcome.DeadlineExceeded, 1), await run.WaitAsync(Safety));
        Assert.Single(sender.Sent);
        Assert.Equal((LoopAnswer.NoResponse, 1, RequestOutcome.DeadlineExceeded, true), Assert.Single(sender.Answers));
        Assert.Contains("sidecar_retries_skipped_total{reason=\"deadline\",route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryAttemptFails_AnsweredNoResponseAsExhausted()
    {
        var sender = Sender(new Fail(TransportErrorKind.ConnectFailure, TimeSpan.Zero), new Fail(TransportErrorKind.ConnectFailure, TimeSpan.Zero), new Fail(TransportErrorKind.Reset, TimeSpan.Zero));

        Assert.Equal((RequestOutcome.Exhausted, 3), await _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None).WaitAsync(Safety));
        Assert.Equal((LoopAnswer.NoResponse, 3, RequestOutcome.Exhausted, false), Assert.Single(sender.Answers));
        Assert.Null(sender.Relayed);
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 2", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_InvalidResponseAndNoWinner_Answered502InvalidResponse()
    {
        var sender = Sender(new Invalid(TimeSpan.Zero), new Fail(TransportErrorKind.ConnectFailure, TimeSpan.Zero));

        Assert.Equal((RequestOutcome.NotRetryable, 2), await _race.RunAsync(_harness.NewRequest("two"), sender, CancellationToken.None).WaitAsync(Safety));
        Assert.Equal((LoopAnswer.InvalidResponse, 2, RequestOutcome.NotRetryable, false), Assert.Single(sender.Answers));
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"invalid_response\",route=\"two\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CallerLeaves_EveryAttemptCancelledAndNothingAnswered()
    {
        var sender = Sender(new Hang(), new Hang());
        using var caller = new CancellationTokenSource();

        var run = _race.RunAsync(_harness.NewRequest("h"), sender, caller.Token);
        await sender.ArrivedAsync(1);
        await _harness.Time.ArmedAsync(Delay).WaitAsync(Safety);
        await caller.CancelAsync();

        Assert.Equal((RequestOutcome.ClientCancelled, 1), await run.WaitAsync(Safety));
        Assert.Equal([1], sender.Cancelled);
        Assert.Single(sender.Sent);
        Assert.Empty(sender.Answers);
        Assert.Null(sender.Relayed);
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"cancelled\",route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NoDestination_AnsweredWithoutAnAttempt()
    {
        var sender = new ScriptedHedgeSender(_harness.Decider, _harness.Time, destinations: 0);

        Assert.Equal((RequestOutcome.NotRetryable, 0), await _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None).WaitAsync(Safety));
        Assert.Empty(sender.Sent);
        Assert.Equal((LoopAnswer.NoResponse, 0, RequestOutcome.NotRetryable, false), Assert.Single(sender.Answers));
    }

    [Fact]
    public async Task RunAsync_OnASingleThreadedLoop_EachStepDoneWhenTheLoopIsIdle()
    {
        // As a simulation drives it: one thread, continuations queued to it, the clock moved only when nothing is left
        // to run. A completion that hopped through the thread pool would leave the race behind the clock.
        var loop = new SingleThreadedLoop();
        var sender = Sender(new Respond(200, Ms(200)), new Respond(200, Ms(10)));
        Task<(RequestOutcome Outcome, int Attempts)> run = null!;

        loop.Run(() => run = _race.RunAsync(_harness.NewRequest("h"), sender, CancellationToken.None));
        Assert.Single(sender.Sent);
        loop.Run(() => _harness.Time.Advance(Delay));
        Assert.Equal(2, sender.Sent.Length);
        Assert.False(run.IsCompleted);
        loop.Run(() => _harness.Time.Advance(Ms(10)));

        Assert.True(run.IsCompletedSuccessfully);
        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await run);
        Assert.Equal([1], sender.Cancelled);
        Assert.Equal([loop.ThreadId], sender.Threads.Distinct());
    }

    private static TimeSpan Ms(int milliseconds) => TimeSpan.FromMilliseconds(milliseconds);

    private ScriptedHedgeSender Sender(params Step[] steps) => new(_harness.Decider, _harness.Time, destinations: 3, steps);

    /// <summary>Waits until a skip for <paramref name="reason"/> was counted (the race decides on its own task).</summary>
    private async Task SkippedAsync(string route, string reason)
    {
        var deadline = DateTime.UtcNow + Safety;
        while (!_harness.Metrics.Render().Contains($"sidecar_retries_skipped_total{{reason=\"{reason}\",route=\"{route}\"}} 1", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No {reason} skip was counted.");
            await Task.Yield();
        }
    }

    /// <summary>Runs an action and then every continuation posted to it, on the calling thread, until none is left.</summary>
    private sealed class SingleThreadedLoop : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _ready = new();

        public int ThreadId { get; } = Environment.CurrentManagedThreadId;

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_ready)
            {
                _ready.Enqueue((d, state));
            }
        }

        public override void Send(SendOrPostCallback d, object? state) => d(state);

        public override SynchronizationContext CreateCopy() => this;

        public void Run(Action action)
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                action();
                while (TryTake(out var next))
                {
                    next.Callback(next.State);
                }
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }

        private bool TryTake(out (SendOrPostCallback Callback, object? State) next)
        {
            lock (_ready)
            {
                return _ready.TryDequeue(out next);
            }
        }
    }
}
