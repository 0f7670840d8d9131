using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Telemetry;
using static Sidecar.TestSupport.ScriptedAttemptSender;

namespace Sidecar.Tests.Retries;

/// <summary>
/// <see cref="AttemptLoop"/> driven through its seam by a scripted upstream (<see cref="ScriptedAttemptSender"/>) on a
/// fake clock, with the real <see cref="RetryDecider"/>: every way an attempt can end, and every limit that can stop
/// the next one, without a socket. Time moves only when the test moves it, once the loop has armed the timer.
/// </summary>
public sealed class AttemptLoopTests : IDisposable
{
    private const string Yaml = """
        limits: { max_waiting_retries: 8 }
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
            per_try_timeout: 1s
            budget: { enabled: false }
          short:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            retry_on: { status: [503], errors: [per-try-timeout] }
            timeout: 150ms
            budget: { enabled: false }
          broke:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            retry_on: { status: [503] }
            budget: { ratio: 0, min_per_second: 0 }
        routes:
          - { name: r, match: { path: "/r/{**rest}" }, cluster: app, policy: p }
          - { name: short, match: { path: "/s/{**rest}" }, cluster: app, policy: short }
          - { name: broke, match: { path: "/b/{**rest}" }, cluster: app, policy: broke }
        """;

    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan PerTry = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private readonly RetryHarness _harness = new(Yaml);
    private readonly AttemptLoop _loop;

    public AttemptLoopTests() =>
        _loop = new AttemptLoop(_harness.Decider, _harness.Metrics.Metrics, _harness.Time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task RunAsync_RetryableStatusThenSuccess_WaitsTheBackoffAndSucceeds()
    {
        var sender = Sender(new Respond(503), new Respond(200));

        var run = Run("r", sender);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        var outcome = await run.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal([TimeSpan.Zero, Backoff], sender.SentAt);
        Assert.Empty(sender.Answers);
        Assert.Contains("sidecar_retries_total{reason=\"503\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_EveryAttemptRetryable_LastResponseReturnedAsExhausted()
    {
        var sender = Sender(new Respond(503), new Respond(503), new Respond(503));

        var run = Run("r", sender);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff, count: 2);
        var outcome = await run.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.Exhausted, outcome);
        Assert.Equal(3, sender.Sent);
        Assert.True(sender.ResponseStarted);
        Assert.Empty(sender.Answers);
    }

    [Fact]
    public async Task RunAsync_ConnectFailureOnAPost_RetriedBecauseTheUpstreamNeverSawIt()
    {
        var sender = Sender(new Fail(TransportErrorKind.ConnectFailure), new Respond(200));

        var run = Run("r", sender, isIdempotent: false);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, await run.WaitAsync(Safety));
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"connect_failure\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResetOnAPost_NotRetriedAndAnsweredAsNoResponse()
    {
        var sender = Sender(new Fail(TransportErrorKind.Reset));

        var outcome = await Run("r", sender, isIdempotent: false).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal((LoopAnswer.NoResponse, 1, RequestOutcome.NotRetryable, false), Assert.Single(sender.Answers));
        Assert.Contains("sidecar_retries_skipped_total{reason=\"method\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_RetryableStatusOnAPost_ResponseReturnedNotRetried()
    {
        var sender = Sender(new Respond(503));

        var outcome = await Run("r", sender, isIdempotent: false).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal(1, sender.Sent);
        Assert.True(sender.ResponseStarted);
    }

    [Fact]
    public async Task RunAsync_ConnectFailureOnEveryAttempt_AnsweredAsNoResponseExhausted()
    {
        var sender = Sender(new Fail(TransportErrorKind.ConnectFailure), new Fail(TransportErrorKind.ConnectFailure), new Fail(TransportErrorKind.ConnectFailure));

        var run = Run("r", sender);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff, count: 2);

        Assert.Equal(RequestOutcome.Exhausted, await run.WaitAsync(Safety));
        Assert.Equal((LoopAnswer.NoResponse, 3, RequestOutcome.Exhausted, false), Assert.Single(sender.Answers));
    }

    [Fact]
    public async Task RunAsync_InvalidUpstreamResponse_AnsweredAndNotRetried()
    {
        var sender = Sender(new Invalid());

        var outcome = await Run("r", sender).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal((LoopAnswer.InvalidResponse, 1, RequestOutcome.NotRetryable, false), Assert.Single(sender.Answers));
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"invalid_response\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NoAnswerWithinThePerTryTimeout_RetriedWhenTheTimerFires()
    {
        var sender = Sender(new Hang(), new Respond(200));

        var run = Run("r", sender);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(PerTry);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, await run.WaitAsync(Safety));
        Assert.Equal([TimeSpan.Zero, PerTry + Backoff], sender.SentAt);
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"app\",result=\"per_try_timeout\",route=\"r\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_retries_total{reason=\"per_try_timeout\",route=\"r\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResponseArrivesAsThePerTryTimerFires_NotCommittedButRetriedAsATimeout()
    {
        // Committed, YARP would send its headers and then cut its body on the fired timer: the caller saw a reset
        // (ControlHeaderFuzzTests, a 1 ms deadline, once in 10,000 requests).
        var sender = Sender(new RespondAtTimeout(200), new Respond(200));

        var run = Run("r", sender);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(PerTry);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, await run.WaitAsync(Safety));
        Assert.Equal(2, sender.Sent);
        Assert.Contains("sidecar_retries_total{reason=\"per_try_timeout\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_ResponseArrivesAsThePerTryTimerFiresOnAPost_AnsweredAsATimeout()
    {
        // Not retried (the upstream may have acted on it) and not sent half: the caller gets Sidecar's 504.
        var sender = Sender(new RespondAtTimeout(200));

        var run = Run("r", sender, isIdempotent: false);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(PerTry);
        var outcome = await run.WaitAsync(Safety);

        Assert.False(sender.ResponseStarted);
        var answer = Assert.Single(sender.Answers);
        Assert.Equal(LoopAnswer.NoResponse, answer.Answer);
        Assert.True(answer.TimedOut);
        Assert.Equal(outcome, answer.Outcome);
    }

    [Fact]
    public async Task RunAsync_RetryAfter_WaitsWhatTheUpstreamAskedInsteadOfTheBackoff()
    {
        var sender = Sender(new Respond(503, ("Retry-After", "2")), new Respond(200));

        var run = Run("r", sender);
        await _harness.Time.AdvanceWhenArmedAsync(TimeSpan.FromSeconds(2));

        Assert.Equal(RequestOutcome.SuccessAfterRetry, await run.WaitAsync(Safety));
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(2)], sender.SentAt);
        Assert.Contains("sidecar_retry_after_honored_total{route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_PushbackDoNotRetry_ResponseReturnedAfterOneAttempt()
    {
        var sender = Sender(new Respond(503, ("x-sidecar-retry-pushback-ms", "-1"), ("Retry-After", "30")));

        var outcome = await Run("r", sender).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal(1, sender.Sent);
        Assert.True(sender.ResponseStarted);
        Assert.Contains("sidecar_retries_skipped_total{reason=\"pushback\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_BudgetRefused_LastResponseReturned()
    {
        var sender = Sender(new Respond(503));

        var outcome = await Run("broke", sender).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        Assert.Equal(1, sender.Sent);
        Assert.True(sender.ResponseStarted);
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"app\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_NextWaitWouldPassTheDeadline_LastResponseReturnedAsDeadlineExceeded()
    {
        var sender = Sender(new Respond(503), new Respond(503));

        var run = Run("short", sender);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        var outcome = await run.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.DeadlineExceeded, outcome);
        Assert.Equal(2, sender.Sent);
        Assert.True(sender.ResponseStarted);
        Assert.Contains("sidecar_retries_skipped_total{reason=\"deadline\",route=\"short\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_DeadlineEndsAnAttempt_Answered504WithoutAnotherAttempt()
    {
        var sender = Sender(new Hang());

        var run = Run("short", sender);
        await sender.ArrivedAsync(1);
        await _harness.Time.AdvanceWhenArmedAsync(TimeSpan.FromMilliseconds(150));

        Assert.Equal(RequestOutcome.DeadlineExceeded, await run.WaitAsync(Safety));
        Assert.Equal((LoopAnswer.NoResponse, 1, RequestOutcome.DeadlineExceeded, true), Assert.Single(sender.Answers));
    }

    [Fact]
    public async Task RunAsync_CircuitOpensBeforeTheRetry_Answered503AfterOneAttempt()
    {
        var sender = Sender(new Respond(503));
        sender.CircuitOpensAt = 2;

        var run = Run("r", sender);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);

        Assert.Equal(RequestOutcome.CircuitOpen, await run.WaitAsync(Safety));
        Assert.Equal((LoopAnswer.CircuitOpen, 1, RequestOutcome.CircuitOpen, false), Assert.Single(sender.Answers));
    }

    [Fact]
    public async Task RunAsync_BodyGrewPastTheBufferDuringTheAttempt_Answered502InsteadOfARetry()
    {
        var sender = Sender(new Respond(503));

        var run = Run("r", sender);
        await sender.ArrivedAsync(1);
        sender.BodyBroken = true;
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);

        Assert.Equal(RequestOutcome.NotRetryable, await run.WaitAsync(Safety));
        Assert.Equal(1, sender.Sent);
        Assert.Equal((LoopAnswer.BodyNotReplayable, 1, RequestOutcome.NotRetryable, false), Assert.Single(sender.Answers));
    }

    [Fact]
    public async Task RunAsync_BodyNotReplayableFromTheStart_RetrySkippedAndResponseReturned()
    {
        var sender = Sender(new Respond(503));
        var state = _harness.NewRequest("r");
        state.BodyReplayable = false;

        var outcome = await _loop.RunAsync(state, sender, CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Contains("sidecar_retries_skipped_total{reason=\"body_not_replayable\",route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_Draining_RetriesAtOnceInsteadOfWaiting()
    {
        var sender = Sender(new Respond(503, ("Retry-After", "30")), new Respond(200));
        _harness.Drain.Trigger();

        var outcome = await Run("r", sender).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal([TimeSpan.Zero, TimeSpan.Zero], sender.SentAt);
    }

    [Fact]
    public async Task RunAsync_CallerLeavesDuringTheBackoff_ClientCancelledAndNoFurtherAttempt()
    {
        var sender = Sender(new Respond(503), new Respond(200));
        using var caller = new CancellationTokenSource();

        var run = _loop.RunAsync(_harness.NewRequest("r"), sender, caller.Token);
        await _harness.Time.ArmedAsync(Backoff).WaitAsync(Safety);
        await caller.CancelAsync();

        Assert.Equal(RequestOutcome.ClientCancelled, await run.WaitAsync(Safety));
        Assert.Equal(1, sender.Sent);
        Assert.Equal(0, _harness.Route("r").Retry!.Cluster.WaitingRetries.Current);
    }

    [Fact]
    public async Task RunAsync_RetriedTwiceWithATrail_RecordsEachAttemptWithItsWaitAndReason()
    {
        var sender = Sender(new Respond(503), new Fail(TransportErrorKind.ConnectFailure), new Respond(200));
        var state = _harness.NewRequest("r");
        state.Trail = new AttemptTrail(explain: true, AccessLogMode.Off);

        var run = _loop.RunAsync(state, sender, CancellationToken.None);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff, count: 2);
        var outcome = await run.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal(
            [
                new AttemptRecord(1, Destination(1), 503, AttemptResult.Status5xx, TimeSpan.Zero, Backoff, "503"),
                new AttemptRecord(2, Destination(2), 0, AttemptResult.ConnectFailure, TimeSpan.Zero, Backoff, RetryReason.ConnectFailure),
                new AttemptRecord(3, Destination(3), 200, AttemptResult.Status2xx, TimeSpan.Zero),
            ],
            state.Trail.Attempts);
        Assert.Null(state.SkipReason);
        Assert.Equal(
            "attempt=1 dest=10.0.0.1:8080 status=503 dur=0ms wait=100ms reason=503; attempt=2 dest=10.0.0.2:8080 error=connect_failure dur=0ms wait=100ms reason=connect_failure; attempt=3 dest=10.0.0.3:8080 status=200 dur=0ms; decision=success_after_retry",
            ExplainHeader.Format(state, state.Trail, currentDestination: null, _harness.Time.GetTimestamp(), _harness.Time));
    }

    [Fact]
    public async Task RunAsync_RetryRefusedByTheBudget_TrailEndsWithTheBudgetAsStopReason()
    {
        var sender = Sender(new Respond(503));
        var state = _harness.NewRequest("broke");
        state.Trail = new AttemptTrail(explain: true, AccessLogMode.Off);

        var outcome = await _loop.RunAsync(state, sender, CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        Assert.Equal(RetrySkipReason.Budget, state.SkipReason);
        Assert.Equal(
            "attempt=1 dest=10.0.0.1:8080 status=503 dur=0ms; decision=budget_exhausted stop=budget",
            ExplainHeader.Format(state, state.Trail, currentDestination: null, _harness.Time.GetTimestamp(), _harness.Time));
    }

    [Fact]
    public async Task RunAsync_NoTrail_NoneCreated()
    {
        var sender = Sender(new Respond(503), new Respond(200));
        var state = _harness.NewRequest("r");

        var run = _loop.RunAsync(state, sender, CancellationToken.None);
        await _harness.Time.AdvanceWhenArmedAsync(Backoff);
        await run.WaitAsync(Safety);

        Assert.Null(state.Trail);
    }

    private ScriptedAttemptSender Sender(params Step[] steps) => new(_harness.Decider, _harness.Time, steps);

    private Task<RequestOutcome> Run(string route, ScriptedAttemptSender sender, bool isIdempotent = true)
    {
        var plan = _harness.Route(route).Retry!;
        var deadline = plan.Options.Timeout;
        return _loop.RunAsync(_harness.NewRequest(route, isIdempotent, deadline), sender, CancellationToken.None);
    }
}
