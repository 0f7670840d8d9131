using Sidecar.Policies;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// The one place that decides "retry or give up" for a failed attempt, whether the failure is a response (decided in
/// the pipeline's response transform before any byte reaches the caller) or a transport error (decided in the
/// pipeline's attempt loop). The checks run cheapest and most final first, and the budget is charged last so a
/// retry refused for another reason never spends it.
/// </summary>
internal sealed class RetryDecider
{
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

    public TimeProvider TimeProvider => _timeProvider;

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
        var route = state.Route;
        if (state.IsLastAttempt)
        {
            outcome = RequestOutcome.Exhausted;
            return false;
        }

        if (serverForbids)
        {
            return Skip(route, RetrySkipReason.Pushback, RequestOutcome.NotRetryable, out outcome);
        }

        if (requiresIdempotency && !state.IsIdempotent)
        {
            return Skip(route, RetrySkipReason.Method, RequestOutcome.NotRetryable, out outcome);
        }

        if (!state.BodyReplayable)
        {
            return Skip(route, state.BufferingShed ? RetrySkipReason.Overloaded : RetrySkipReason.BodyNotReplayable, RequestOutcome.NotRetryable, out outcome);
        }

        var plan = state.Plan;
        var delay = serverDelay ?? plan.Backoff.NextDelay(state.Attempt, state.PreviousDelay, _random.NextDouble());
        if (state.HasDeadline)
        {
            // Sleeping until (or past) the deadline leaves no time for the attempt: return what we have now.
            var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), state.DeadlineTimestamp);
            if (delay >= remaining)
            {
                return Skip(route, RetrySkipReason.Deadline, RequestOutcome.DeadlineExceeded, out outcome);
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
                return Skip(route, RetrySkipReason.BackoffCap, RequestOutcome.BudgetExhausted, out outcome);
            }

            holdsWaitSlot = true;
        }

        if (!state.HoldsRetrySlot)
        {
            if (!plan.RetrySlots.TryEnter())
            {
                ReleaseWaitSlot(plan.Cluster, holdsWaitSlot);
                return Skip(route, RetrySkipReason.Concurrency, RequestOutcome.BudgetExhausted, out outcome);
            }

            state.HoldsRetrySlot = true;
        }

        if (!plan.Options.Budget.Enabled || plan.Cluster.Budget.TryAcquireRetry(plan.Options.Budget))
        {
            state.ScheduleRetry(delay, reason);
            outcome = default;
            return true;
        }

        ReleaseWaitSlot(plan.Cluster, holdsWaitSlot);
        _metrics.RetryBudgetExhausted(plan.Cluster.ClusterName);
        return Skip(route, RetrySkipReason.Budget, RequestOutcome.BudgetExhausted, out outcome);
    }

    /// <summary>
    /// Waits out a scheduled delay and frees the wait slot taken by <see cref="TryScheduleRetry"/>. False when the
    /// caller left. Draining cuts the wait short: the retry happens at once rather than hold the shutdown.
    /// </summary>
    public async ValueTask<bool> WaitAsync(RetryState state, CancellationToken requestAborted)
    {
        var delay = state.RetryDelay;
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

    private void ReleaseWaitSlot(ClusterRetryState cluster, bool held)
    {
        if (held)
        {
            _waitLimiter.Exit(cluster);
        }
    }

    private bool Skip(RoutePlan route, RetrySkipReason skipReason, RequestOutcome skipOutcome, out RequestOutcome outcome)
    {
        _metrics.RetrySkipped(route.RouteName, skipReason);
        route.Log.Skipped(skipReason);
        outcome = skipOutcome;
        return false;
    }
}
