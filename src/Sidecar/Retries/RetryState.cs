using Sidecar.Policies;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// Per-request retry state, set as an <see cref="HttpContext"/> feature for requests on a route with a policy, so the
/// request and response transforms of each attempt can read it. Requests without a policy never create one. What the
/// request is (route, limits, body) is set when it starts; what an attempt leaves behind (its response, the verdict
/// on it) only through <see cref="RetryDecider"/>, and the attempt's timer only through <see cref="AttemptTiming"/>.
/// </summary>
internal sealed class RetryState
{
    private bool _bodyReplayable = true;

    public RetryState(RoutePlan route, RetryPlan plan, int maxAttempts, long startTimestamp, long deadlineTimestamp, bool isIdempotent)
    {
        Route = route;
        Plan = plan;
        MaxAttempts = maxAttempts;
        StartTimestamp = startTimestamp;
        DeadlineTimestamp = deadlineTimestamp;
        IsIdempotent = isIdempotent;
    }

    public RoutePlan Route { get; }

    public RetryPlan Plan { get; }

    /// <summary>The policy's <c>max_attempts</c>, lowered by the caller's override when allowed.</summary>
    public int MaxAttempts { get; }

    public long StartTimestamp { get; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> value of the deadline, or <see cref="long.MaxValue"/> for none.</summary>
    public long DeadlineTimestamp { get; }

    public bool HasDeadline => DeadlineTimestamp != long.MaxValue;

    /// <summary>The method may be retried after the upstream may have seen it (idempotent, or carries Idempotency-Key, or opted in).</summary>
    public bool IsIdempotent { get; }

    /// <summary>
    /// The request body (if any) can be sent again byte for byte: it was replayable when the request began, and every
    /// byte read from the caller since was kept (<see cref="Body"/>).
    /// </summary>
    public bool BodyReplayable
    {
        get => _bodyReplayable && Body?.IsReplayable != false;
        set => _bodyReplayable = value;
    }

    /// <summary>The body kept as it is forwarded, when there is one (not with hedging, which buffers it first).</summary>
    public IReplayableBody? Body { get; set; }

    /// <summary>A gRPC call (<c>content-type: application/grpc*</c>): gRPC conditions, deadline and attempt headers apply.</summary>
    public bool IsGrpc { get; init; }

    /// <summary>
    /// The current attempt asks the upstream for <c>100 Continue</c> before its body is sent: the caller was still
    /// uploading when it started, and an upstream that answers before reading (a 503 at the door) must reach the
    /// caller at once rather than after the upload (the HTTP/1.1 client sends the whole body before it hands over a
    /// response). Set per attempt by the sender.
    /// </summary>
    public bool ExpectContinue { get; set; }

    /// <summary>The body was not buffered because the overload manager had stopped buffering (a retry is skipped as <c>overloaded</c>).</summary>
    public bool BufferingShed { get; set; }

    /// <summary>With hedging: the attempt this state belongs to (each hedged attempt has its own state).</summary>
    public IHedgedAttempt? Hedge { get; private init; }

    /// <summary>1-based number of the attempt in flight.</summary>
    public int Attempt { get; private set; }

    public bool IsLastAttempt => Attempt >= MaxAttempts;

    /// <summary>
    /// <see cref="TimeProvider.GetTimestamp"/> value at which the current attempt's time runs out (the nearer of its
    /// per-try timeout and the deadline), or <see cref="long.MaxValue"/> for none: what <c>grpc-timeout</c> tells the upstream.
    /// </summary>
    public long AttemptDeadlineTimestamp { get; private set; } = long.MaxValue;

    /// <summary>The attempt's timer (per-try timeout and deadline); disarmed once the response is committed.</summary>
    public CancellationTokenSource? AttemptTimeout { get; private set; }

    /// <summary>Status of the committed or suppressed response of the current attempt; 0 when none arrived.</summary>
    public int ResponseStatus { get; private set; }

    /// <summary>The gRPC status of the current attempt's trailers-only response; -1 when it had none.</summary>
    public int GrpcStatus { get; private set; } = -1;

    public AttemptVerdict Verdict { get; private set; }

    /// <summary>With <see cref="AttemptVerdict.Retry"/>: the delay before the next attempt.</summary>
    public TimeSpan RetryDelay { get; private set; }

    /// <summary>With <see cref="AttemptVerdict.Retry"/>: the <c>sidecar_retries_total</c> reason.</summary>
    public string RetryReason { get; private set; } = string.Empty;

    /// <summary>With <see cref="AttemptVerdict.Commit"/>: the request's outcome.</summary>
    public RequestOutcome Outcome { get; private set; } = RequestOutcome.Success;

    /// <summary>Why the last wanted retry did not happen (the budget, the method, the deadline...); null when none was refused.</summary>
    public RetrySkipReason? SkipReason { get; private set; }

    /// <summary>What each attempt did, kept only when the access log or the explain header will show it; null otherwise.</summary>
    public AttemptTrail? Trail { get; set; }

    /// <summary>The delay before the previous retry (decorrelated jitter grows from it).</summary>
    public TimeSpan PreviousDelay { get; private set; }

    /// <summary>The request holds one of its plan's <see cref="RetryPlan.RetrySlots"/> until it ends.</summary>
    public bool HoldsRetrySlot { get; private set; }

    /// <summary>The state of hedged attempt <paramref name="number"/> of this request.</summary>
    public RetryState ForHedge(int number, int maxAttempts, IHedgedAttempt hedge)
    {
        var state = new RetryState(Route, Plan, maxAttempts, StartTimestamp, DeadlineTimestamp, IsIdempotent)
        {
            BodyReplayable = BodyReplayable,
            BufferingShed = BufferingShed,
            IsGrpc = IsGrpc,
            Hedge = hedge,
        };
        state.BeginAttempt(number);
        return state;
    }

    public void BeginAttempt(int attempt)
    {
        Attempt = attempt;
        Verdict = AttemptVerdict.Pending;
        ResponseStatus = 0;
        GrpcStatus = -1;
    }

    /// <summary>The attempt's timer is armed (<see cref="AttemptTiming.Arm"/>).</summary>
    public void Arm(CancellationTokenSource timer, long attemptDeadlineTimestamp)
    {
        AttemptTimeout = timer;
        AttemptDeadlineTimestamp = attemptDeadlineTimestamp;
    }

    /// <summary>The attempt is over: its timer belongs to nobody any more.</summary>
    public void Disarm() => AttemptTimeout = null;

    /// <summary>The response of the current attempt arrived (its status and, for gRPC, a trailers-only status).</summary>
    public void RecordResponse(int status, int grpcStatus)
    {
        ResponseStatus = status;
        GrpcStatus = grpcStatus;
    }

    /// <summary>Takes a <c>max_concurrent_retries</c> slot, once per request: later retries of the request keep it.</summary>
    public bool TryTakeRetrySlot()
    {
        if (HoldsRetrySlot)
        {
            return true;
        }

        if (!Plan.RetrySlots.TryEnter())
        {
            return false;
        }

        HoldsRetrySlot = true;
        return true;
    }

    /// <summary>The request ended: its retry slot goes back.</summary>
    public void ReleaseRetrySlot()
    {
        if (HoldsRetrySlot)
        {
            HoldsRetrySlot = false;
            Plan.RetrySlots.Exit();
        }
    }

    /// <summary>A retry the policy wanted was refused for <paramref name="reason"/>.</summary>
    public void SkipRetry(RetrySkipReason reason) => SkipReason = reason;

    public void ScheduleRetry(TimeSpan delay, string reason)
    {
        Verdict = AttemptVerdict.Retry;
        RetryDelay = delay;
        PreviousDelay = delay;
        RetryReason = reason;
    }

    /// <summary>
    /// Commits unless the attempt's timer has fired: the timer is stopped first and checked after, so a response
    /// committed here is not cut by it. False (nothing changed) when time ran out while the response was decided.
    /// </summary>
    public bool TryCommit(RequestOutcome outcome)
    {
        if (AttemptTimeout is { } timer)
        {
            timer.CancelAfter(Timeout.InfiniteTimeSpan);
            if (timer.IsCancellationRequested)
            {
                return false;
            }
        }

        Commit(outcome);
        return true;
    }

    /// <summary>The response goes to the caller: the per-try timer is disarmed so a long streaming body is not cut.</summary>
    public void Commit(RequestOutcome outcome)
    {
        Verdict = AttemptVerdict.Commit;
        Outcome = outcome;
        AttemptTimeout?.CancelAfter(Timeout.InfiniteTimeSpan);
        Hedge?.Committed();
    }
}

/// <summary>What was decided about the current attempt's response.</summary>
internal enum AttemptVerdict
{
    /// <summary>No response yet (or none arrived: a transport error).</summary>
    Pending,

    /// <summary>The response was suppressed and another attempt follows.</summary>
    Retry,

    /// <summary>The response is being sent to the caller.</summary>
    Commit,
}
