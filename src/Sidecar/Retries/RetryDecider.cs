using Sidecar.Configuration;
using Sidecar.Policies;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// The one owner of the retry decision, as Envoy's <c>RetryStateImpl</c>: whether an attempt's result is retryable
/// (<see cref="DecideResponseAsync"/> for a response, read before any byte reaches the caller;
/// <see cref="TryRetryAfterTransportError"/> for an attempt that got none) and whether another attempt may start now
/// (<see cref="TryScheduleRetry"/>, which hedging's extra attempts pass too). The checks run cheapest and most final
/// first, and the budget is charged last so a retry refused for another reason never spends it.
/// </summary>
internal sealed class RetryDecider
{
    private readonly ResponseConditionEvaluator _conditions = new();
    private readonly TimeProvider _timeProvider;
    private readonly IRandomSource _random;
    private readonly SidecarMetrics _metrics;
    private readonly BackoffWaitLimiter _waitLimiter;
    private readonly DrainSignal _drain;

    public RetryDecider(TimeProvider timeProvider, IRandomSource random, SidecarMetrics metrics, BackoffWaitLimiter waitLimiter, DrainSignal drain)
    {
        _timeProvider = timeProvider;
        _random = random;
        _metrics = metrics;
        _waitLimiter = waitLimiter;
        _drain = drain;
    }

    /// <summary>
    /// Decides about the current attempt's response: committed to the caller (<see cref="AttemptVerdict.Commit"/>),
    /// or suppressed, either for a retry (<see cref="AttemptVerdict.Retry"/>) or, hedged, because another attempt of
    /// the race may still answer.
    /// </summary>
    public async ValueTask<ResponseDecision> DecideResponseAsync(RetryState state, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        // An upgrade (101) is never suppressed: YARP switches protocols right after the response transforms.
        if (status == StatusCodes.Status101SwitchingProtocols)
        {
            state.RecordResponse(status, -1);
            state.Commit(Succeeded(state));
            return default;
        }

        if (state.Hedge is null && state.AttemptTimeout is { IsCancellationRequested: true })
        {
            // The attempt's time ran out as its response arrived. Committed, YARP would send the headers and then cut
            // the body on the cancelled token: a reset for the caller. Suppressed, the loop takes the attempt for a
            // per-try timeout, which it retries or answers with a 504.
            state.RecordResponse(status, -1);
            return new(Suppress: true, ValidationFailed: false);
        }

        var found = await ResponseClassifier.ClassifyAsync(state, response, _conditions, cancellationToken);
        state.RecordResponse(status, found.GrpcStatus);
        if (found.Reason is null)
        {
            if (state.Hedge is { } winner && !winner.TryClaimWin())
            {
                return new(Suppress: true, ValidationFailed: false);
            }

            return Commit(state, Succeeded(state), validationFailed: false);
        }

        var (serverDelay, serverForbids) = ServerDirectedDelay.Read(state, response, _timeProvider.GetUtcNow());
        if (state.Hedge is { } hedge)
        {
            return DecideHedged(state, hedge, found, serverDelay, serverForbids);
        }

        // A listed gRPC code is retried for any method: the policy author asserts it means "not processed" (gRFC A6's
        // retryableStatusCodes make the same assertion).
        if (TryScheduleRetry(state, found.Reason, requiresIdempotency: !found.GrpcCondition, serverDelay, serverForbids, out var outcome))
        {
            CountRetryAfter(state, serverDelay, found.GrpcCondition);
            return new(Suppress: true, ValidationFailed: false);
        }

        // Retries are over: the last upstream response goes to the caller unchanged.
        return Commit(state, outcome, found.ValidationFailed);
    }

    /// <summary>
    /// Commits the response, unless the attempt's timer fired while it was being decided (after the check at the top):
    /// committed then, YARP would send the headers and cut the body on the fired token, a reset for the caller
    /// (Faults/ControlHeaderFuzzTests, a GET with a 2 ms deadline). Suppressed, the loop takes it for a per-try timeout.
    /// </summary>
    private static ResponseDecision Commit(RetryState state, RequestOutcome outcome, bool validationFailed)
    {
        if (state.Hedge is not null)
        {
            // A hedged attempt's timer belongs to the race, which handles it.
            state.Commit(outcome);
        }
        else if (!state.TryCommit(outcome))
        {
            return new(Suppress: true, ValidationFailed: false);
        }

        return new(Suppress: false, validationFailed);
    }

    /// <summary>
    /// Envoy's "would retry from reset" and "retry now" for an attempt that got no response (a transport error, its
    /// timer, or the caller leaving). Connect failures never reached the upstream and are safe to retry for any
    /// method; resets and timeouts may have been processed, so they need an idempotent request.
    /// </summary>
    /// <param name="state">The request.</param>
    /// <param name="error">The error's kind; null when YARP reported none.</param>
    /// <param name="timedOut">The attempt's own timer fired.</param>
    /// <param name="responseStarted">Part of a response already reached the caller.</param>
    /// <param name="callerLeft">The caller went away.</param>
    /// <param name="outcome">With false: the request's outcome.</param>
    public bool TryRetryAfterTransportError(RetryState state, TransportErrorKind? error, bool timedOut, bool responseStarted, bool callerLeft, out RequestOutcome outcome)
    {
        if (callerLeft)
        {
            outcome = RequestOutcome.ClientCancelled;
            return false;
        }

        if (error is null || responseStarted)
        {
            // Something already answered (or started answering) the caller; nothing can be retried.
            outcome = RequestOutcome.NotRetryable;
            return false;
        }

        if (timedOut && state.HasDeadline && _timeProvider.GetTimestamp() >= state.DeadlineTimestamp)
        {
            outcome = RequestOutcome.DeadlineExceeded;
            return false;
        }

        if (error.Flag == RetryableErrors.None || !state.Plan.IsRetryableError(error.Flag))
        {
            outcome = error.Flag == RetryableErrors.None ? RequestOutcome.NotRetryable : RequestOutcome.Exhausted;
            return false;
        }

        return TryScheduleRetry(state, error.Reason, requiresIdempotency: error.MayHaveReachedUpstream, serverDelay: null, serverForbids: false, out outcome);
    }

    /// <summary>
    /// Whether a hedged request may start another attempt: the same decision as a retry, taken on the request's own
    /// state, so the attempt limit, <c>max_concurrent_retries</c>, <c>max_waiting_retries</c>, the deadline and the
    /// budget (asked once per extra attempt) bound hedges as they bound retries.
    /// </summary>
    /// <param name="request">The hedged request's state (not an attempt's).</param>
    /// <param name="started">Attempts started so far.</param>
    /// <param name="reason">The <c>sidecar_retries_total</c> reason.</param>
    /// <param name="serverDelay">A delay the upstream asked for before the next attempt; null for at once.</param>
    /// <param name="delay">With true: how long to wait before starting it; above zero, a <c>max_waiting_retries</c>
    /// slot is held until <see cref="WaitAsync(RetryState, TimeSpan, CancellationToken)"/> or <see cref="EndWait"/>.</param>
    /// <param name="outcome">With false: the request's outcome.</param>
    public bool TryAdmitExtraAttempt(RetryState request, int started, string reason, TimeSpan? serverDelay, out TimeSpan delay, out RequestOutcome outcome)
    {
        // The race's own loop and an attempt's response transform may ask at the same time.
        lock (request)
        {
            request.BeginAttempt(started);
            var admitted = TryScheduleRetry(request, reason, requiresIdempotency: true, serverDelay ?? TimeSpan.Zero, serverForbids: false, out outcome);
            delay = admitted ? request.RetryDelay : TimeSpan.Zero;
            if (admitted)
            {
                _metrics.Retried(request.Route.RouteName, reason);
                request.Route.Log.Retried(reason);
            }

            return admitted;
        }
    }

    /// <summary>Gives back the wait slot of an admitted delay that will not be waited out.</summary>
    public void EndWait(RetryState request) => _waitLimiter.Exit(request.Plan.Cluster);

    /// <summary>
    /// Decides whether the current attempt is retried. On yes the decision (delay, reason) is recorded on
    /// <paramref name="state"/>; on no, <paramref name="outcome"/> is the request's outcome.
    /// </summary>
    /// <param name="state">The request.</param>
    /// <param name="reason">The <c>sidecar_retries_total</c> reason.</param>
    /// <param name="requiresIdempotency">False only when the request provably never reached the upstream (connect failure).</param>
    /// <param name="serverDelay">A delay the upstream asked for (Retry-After, pushback), already capped; replaces the backoff.</param>
    /// <param name="serverForbids">The upstream said not to retry (negative pushback).</param>
    /// <param name="outcome">With false: why not, as the request's outcome; with true, not meaningful.</param>
    public bool TryScheduleRetry(RetryState state, string reason, bool requiresIdempotency, TimeSpan? serverDelay, bool serverForbids, out RequestOutcome outcome)
    {
        if (state.IsLastAttempt)
        {
            outcome = RequestOutcome.Exhausted;
            return false;
        }

        if (serverForbids)
        {
            return Skip(state, RetrySkipReason.Pushback, RequestOutcome.NotRetryable, out outcome);
        }

        if (requiresIdempotency && !state.IsIdempotent)
        {
            return Skip(state, RetrySkipReason.Method, RequestOutcome.NotRetryable, out outcome);
        }

        if (!state.BodyReplayable)
        {
            return Skip(state, state.BufferingShed ? RetrySkipReason.Overloaded : RetrySkipReason.BodyNotReplayable, RequestOutcome.NotRetryable, out outcome);
        }

        var plan = state.Plan;
        var delay = serverDelay ?? plan.Backoff.NextDelay(state.Attempt, state.PreviousDelay, _random.NextDouble());
        if (state.HasDeadline)
        {
            // Sleeping until (or past) the deadline leaves no time for the attempt: return what we have now.
            var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), state.DeadlineTimestamp);
            if (delay >= remaining)
            {
                return Skip(state, RetrySkipReason.Deadline, RequestOutcome.DeadlineExceeded, out outcome);
            }
        }

        if (_drain.IsDraining && delay > TimeSpan.Zero)
        {
            // Draining: no new waits; an immediate retry is still fine within the grace period.
            delay = TimeSpan.Zero;
        }

        // The wait slot is taken now, not when the wait starts: once a response is suppressed there is nothing left
        // to return, so every refusal has to happen before that.
        var holdsWaitSlot = false;
        if (delay > TimeSpan.Zero)
        {
            if (!_waitLimiter.TryEnter(plan.Cluster))
            {
                return Skip(state, RetrySkipReason.BackoffCap, RequestOutcome.BudgetExhausted, out outcome);
            }

            holdsWaitSlot = true;
        }

        if (!state.TryTakeRetrySlot())
        {
            ReleaseWaitSlot(plan.Cluster, holdsWaitSlot);
            return Skip(state, RetrySkipReason.Concurrency, RequestOutcome.BudgetExhausted, out outcome);
        }

        if (!plan.Options.Budget.Enabled || plan.Cluster.Budget.TryAcquireRetry(plan.Options.Budget))
        {
            state.ScheduleRetry(delay, reason);
            outcome = default;
            return true;
        }

        ReleaseWaitSlot(plan.Cluster, holdsWaitSlot);
        _metrics.RetryBudgetExhausted(plan.Cluster.ClusterName);
        return Skip(state, RetrySkipReason.Budget, RequestOutcome.BudgetExhausted, out outcome);
    }

    /// <summary>
    /// Waits out a scheduled delay and frees the wait slot taken by <see cref="TryScheduleRetry"/>. False when the
    /// caller left. Draining cuts the wait short: the retry happens at once rather than hold the shutdown.
    /// </summary>
    public ValueTask<bool> WaitAsync(RetryState state, CancellationToken requestAborted) => WaitAsync(state, state.RetryDelay, requestAborted);

    /// <summary>Waits out <paramref name="delay"/>, a delay this decider admitted, and frees its wait slot.</summary>
    public async ValueTask<bool> WaitAsync(RetryState state, TimeSpan delay, CancellationToken requestAborted)
    {
        if (delay <= TimeSpan.Zero)
        {
            return !requestAborted.IsCancellationRequested;
        }

        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _drain.Token);
            await Task.Delay(delay, _timeProvider, linked.Token);
            _metrics.BackoffSlept(state.Route.RouteName, delay);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            _waitLimiter.Exit(state.Plan.Cluster);
        }

        return !requestAborted.IsCancellationRequested;
    }

    /// <summary>
    /// The outcome of a response the policy does not retry: a success only below 500 and, for a gRPC call, without a
    /// non-OK status. A failure outside <c>retry_on</c> still reaches the caller as a failure, and the outcome must say so.
    /// </summary>
    private static RequestOutcome Succeeded(RetryState state) =>
        state.ResponseStatus >= StatusCodes.Status500InternalServerError || state.GrpcStatus > 0 ? RequestOutcome.NotRetryable
        : state.Attempt > 1 ? RequestOutcome.SuccessAfterRetry : RequestOutcome.Success;

    /// <summary>
    /// A retryable response of a hedged attempt. The upstream's "do not retry" stops the race from starting more. With
    /// other attempts in flight the response is dropped: one of them may still answer. Alone, it is dropped only if the
    /// attempt that replaces it passes the retry decision now (so a refusal returns this response, as without
    /// hedging); otherwise it wins, with the outcome the refusal gave.
    /// </summary>
    private ResponseDecision DecideHedged(RetryState state, IHedgedAttempt hedge, ResponseClass found, TimeSpan? serverDelay, bool serverForbids)
    {
        var outcome = RequestOutcome.Exhausted;
        if (serverForbids)
        {
            hedge.StopStarting();
            Skip(state, RetrySkipReason.Pushback, RequestOutcome.NotRetryable, out outcome);
        }

        if (hedge.InFlight > 1)
        {
            return new(Suppress: true, ValidationFailed: false);
        }

        if (!serverForbids && hedge.TryReserveNext())
        {
            var request = hedge.Request;
            if (TryAdmitExtraAttempt(request, hedge.Started, RetryReason.Hedge, serverDelay, out var delay, out var refused))
            {
                CountRetryAfter(state, serverDelay, found.GrpcCondition);
                hedge.AdmitReserved(delay);
                return new(Suppress: true, ValidationFailed: false);
            }

            hedge.CancelReservation();
            hedge.StopStarting();
            outcome = refused;
        }

        if (!hedge.TryClaimWin())
        {
            return new(Suppress: true, ValidationFailed: false);
        }

        state.Commit(outcome);
        return new(Suppress: false, found.ValidationFailed);
    }

    private void CountRetryAfter(RetryState state, TimeSpan? serverDelay, bool grpcCondition)
    {
        if (serverDelay is not null && (state.ResponseStatus is 429 or 503 || grpcCondition))
        {
            _metrics.RetryAfterHonored(state.Route.RouteName);
        }
    }

    private void ReleaseWaitSlot(ClusterRetryState cluster, bool held)
    {
        if (held)
        {
            _waitLimiter.Exit(cluster);
        }
    }

    private bool Skip(RetryState state, RetrySkipReason skipReason, RequestOutcome skipOutcome, out RequestOutcome outcome)
    {
        var route = state.Route;
        state.SkipRetry(skipReason);
        _metrics.RetrySkipped(route.RouteName, skipReason);
        route.Log.Skipped(skipReason);
        outcome = skipOutcome;
        return false;
    }
}
