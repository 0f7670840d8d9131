using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// The attempt loop of a request on a route with a policy, after its deadline, limits and body are set up:
/// 1. From attempt 2: the sender clears the previous attempt and replays the body (or the loop answers 502).
/// 2. The circuit must admit the attempt (else 503), and the deadline must not have passed (else 504).
/// 3. The attempt's timer is armed (<see cref="AttemptTiming"/>) and the attempt sent (<see cref="IAttemptSender"/>);
///    its response, if any, is decided as it arrives by <see cref="RetryDecider"/>.
/// 4. A committed response ends the loop; a suppressed one, or a transport error the decider retries, waits the
///    backoff and loops; anything else is answered (<see cref="LoopAnswer"/>) and ends it.
/// Every attempt is counted and traced (its span says whether a retry followed, after what wait and why, or why not);
/// retries are counted and logged; a request the access log or the explain header shows keeps its
/// <see cref="AttemptTrail"/>.
/// </summary>
internal sealed partial class AttemptLoop
{
    /// <summary>The log category of the retry lines (README, "Logs"), which operators filter on.</summary>
    public const string LogCategory = "Sidecar.Retries.AttemptLoop";

    private readonly RetryDecider _decider;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public AttemptLoop(RetryDecider decider, SidecarMetrics metrics, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _decider = decider;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger(LogCategory);
    }

    /// <summary>Runs the attempts of <paramref name="state"/>'s request; returns its outcome (attempts made: <see cref="RetryState.Attempt"/>).</summary>
    public async Task<RequestOutcome> RunAsync(RetryState state, IAttemptSender sender, CancellationToken requestAborted)
    {
        var route = state.Route;
        for (var attempt = 1; ; attempt++)
        {
            state.BeginAttempt(attempt);
            if (attempt > 1 && !sender.TryPrepareRetry(state))
            {
                // A read under way when the retry was decided brought a byte past buffer_limit (or the pool): the
                // body cannot be sent again, and the response the retry was decided on is gone.
                return await AnswerAsync(state, sender, LoopAnswer.BodyNotReplayable, attempt - 1, RequestOutcome.NotRetryable);
            }

            if (!sender.TryPassCircuit())
            {
                return await AnswerAsync(state, sender, LoopAnswer.CircuitOpen, attempt - 1, RequestOutcome.CircuitOpen);
            }

            var attemptStart = _timeProvider.GetTimestamp();
            if (state.HasDeadline && attemptStart >= state.DeadlineTimestamp)
            {
                return await AnswerAsync(state, sender, LoopAnswer.DeadlineBeforeAttempt, attempt - 1, RequestOutcome.DeadlineExceeded);
            }

            using var timer = AttemptTiming.Arm(_timeProvider, state, attemptStart, requestAborted);
            state.Trail?.Started(attemptStart);
            SentAttempt sent;
            bool timedOut;
            bool retry;
            RequestOutcome outcome = default;
            using (var activity = SidecarActivitySource.StartAttempt(route.RouteName, attempt))
            {
                try
                {
                    sent = await sender.SendAsync(state, timer.Token);
                }
                finally
                {
                    state.Disarm();
                }

                timedOut = timer.IsCancellationRequested && !requestAborted.IsCancellationRequested;
                if (timedOut && sent.Failure is null && state.Verdict == AttemptVerdict.Pending && !sent.InvalidResponse && !sender.ResponseStarted)
                {
                    // Its response arrived as its timer fired and was suppressed (RetryDecider): it timed out.
                    sent = sent with { Failure = new TransportFailure(TransportErrorKind.PerTryTimeout, "AttemptTimedOut", "the attempt's time ran out as its response arrived") };
                }

                // One label for the span and for sidecar_upstream_attempts_total, per-try timeouts included.
                var result = Result(state, sent, timedOut, requestAborted.IsCancellationRequested);
                var status = state.Verdict == AttemptVerdict.Pending || sent.InvalidResponse ? 0 : state.ResponseStatus;
                SidecarActivitySource.SetAttemptResult(activity, result, status, state.GrpcStatus);
                var duration = _timeProvider.GetElapsedTime(attemptStart);
                _metrics.AttemptCompleted(route.RouteName, route.ClusterName, result, duration);
                if (state.Trail is { } trail)
                {
                    // A response nobody decided on (rare) still has its status in the caller's response.
                    var recorded = status == 0 && sent.Failure is null && !sent.InvalidResponse ? sent.Status : status;
                    trail.Completed(new AttemptRecord(attempt, sent.Destination, recorded, result, duration, GrpcStatus: state.GrpcStatus));
                }

                // Decided inside the attempt's span, so the span says what came next: a retry and its wait, or why none.
                retry = state.Verdict == AttemptVerdict.Retry
                    || (state.Verdict == AttemptVerdict.Pending && !sent.InvalidResponse
                        && _decider.TryRetryAfterTransportError(state, ErrorKind(sent, timedOut), timedOut, sender.ResponseStarted, requestAborted.IsCancellationRequested, out outcome));
                if (retry)
                {
                    SidecarActivitySource.SetRetry(activity, state.RetryReason, state.RetryDelay);
                    state.Trail?.Retrying(state.RetryDelay, state.RetryReason);
                }
                else if (activity is not null)
                {
                    var ended = sent.InvalidResponse ? RequestOutcome.NotRetryable : state.Verdict == AttemptVerdict.Commit ? state.Outcome : outcome;
                    SidecarActivitySource.SetStop(activity, state.SkipReason is { } skipped ? skipped.Label() : ended.Label());
                }
            }

            if (sent.InvalidResponse)
            {
                // Not retried: the upstream answered, so it may have acted, and what it answered was broken.
                return await AnswerAsync(state, sender, LoopAnswer.InvalidResponse, attempt, RequestOutcome.NotRetryable);
            }

            if (state.Verdict == AttemptVerdict.Commit)
            {
                if (requestAborted.IsCancellationRequested)
                {
                    return RequestOutcome.ClientCancelled;
                }

                if (!sender.ResponseStarted)
                {
                    // The per-try/deadline timer fired between the commit and YARP's first body byte (found by
                    // Faults/ControlHeaderFuzzTests): nothing reached the caller, who would get YARP's bare 502.
                    if (timer.IsCancellationRequested)
                    {
                        return await AnswerAsync(state, sender, LoopAnswer.TimedOutAfterCommit, attempt, RequestOutcome.DeadlineExceeded);
                    }

                    // The body broke (an upstream reset after the headers) before any of it reached the caller: YARP
                    // left a bare 502, which a gRPC caller cannot read as a status. Answered as "no response" instead.
                    if (sent.Failure is not null)
                    {
                        return await FinishWithoutResponseAsync(state, sender, sent, RequestOutcome.NotRetryable, timedOut: false);
                    }
                }

                return state.Outcome;
            }

            if (!retry)
            {
                return await FinishWithoutResponseAsync(state, sender, sent, outcome, timedOut);
            }

            _metrics.Retried(route.RouteName, state.RetryReason);
            route.Log.Retried(state.RetryReason);
            LogRetry(route.RouteName, attempt + 1, state.RetryReason, (long)state.RetryDelay.TotalMilliseconds);
            if (!await _decider.WaitAsync(state, requestAborted))
            {
                return RequestOutcome.ClientCancelled;
            }
        }
    }

    /// <summary>
    /// The result label of an attempt: its response's status class, or, when none was decided on, its transport
    /// error (the caller leaving first makes it cancelled).
    /// </summary>
    private static AttemptResult Result(RetryState state, SentAttempt sent, bool timedOut, bool callerLeft) =>
        sent.InvalidResponse ? AttemptResult.InvalidResponse
        : state.Verdict != AttemptVerdict.Pending ? AttemptResults.OfStatus(state.ResponseStatus)
        : sent.Failure is null ? AttemptResults.OfStatus(sent.Status)
        : callerLeft ? AttemptResult.Cancelled
        : timedOut ? AttemptResult.PerTryTimeout
        : sent.Failure.Kind.Result;

    /// <summary>The kind of the attempt's transport error; its own timer firing makes any error a per-try timeout.</summary>
    private static TransportErrorKind? ErrorKind(SentAttempt sent, bool timedOut) =>
        sent.Failure is null ? null : timedOut ? TransportErrorKind.PerTryTimeout : sent.Failure.Kind;

    private async Task<RequestOutcome> FinishWithoutResponseAsync(RetryState state, IAttemptSender sender, SentAttempt sent, RequestOutcome outcome, bool timedOut)
    {
        if (outcome == RequestOutcome.ClientCancelled || sender.ResponseStarted || sent.Failure is not { } failure)
        {
            return outcome;
        }

        state.Route.Log.NoResponse();
        LogGaveUp(state.Route.RouteName, state.Attempt, failure.Error, failure.Message);
        timedOut = outcome == RequestOutcome.DeadlineExceeded || timedOut || failure.Kind == TransportErrorKind.PerTryTimeout;
        if (state.Trail is { } trail)
        {
            trail.Decision = outcome;
        }

        await sender.AnswerAsync(LoopAnswer.NoResponse, state.Attempt, outcome, timedOut);
        return outcome;
    }

    private static async Task<RequestOutcome> AnswerAsync(RetryState state, IAttemptSender sender, LoopAnswer answer, int attempts, RequestOutcome outcome)
    {
        if (state.Trail is { } trail)
        {
            trail.Decision = outcome;
        }

        await sender.AnswerAsync(answer, attempts, outcome, timedOut: false);
        return outcome;
    }

    // Per retry and per request, so Debug: at the default level the route's summary line counts them (Logging/RetryLog).
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Retrying route {Route}: attempt {Attempt} after {Reason}, waiting {DelayMs} ms")]
    private partial void LogRetry(string route, int attempt, string reason, long delayMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Route {Route}: no usable response after {Attempts} attempts ({Error}: {Message})")]
    private partial void LogGaveUp(string route, int attempts, string error, string message);
}
