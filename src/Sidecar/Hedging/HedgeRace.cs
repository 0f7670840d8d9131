using System.Diagnostics;
using Sidecar.Policies;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.Hedging;

/// <summary>
/// The race of a hedged request (<c>hedge: {delay, max_extra}</c>, idempotent, body replayable), run against
/// <see cref="IHedgeSender"/> so it runs with YARP in the proxy and with a simulated upstream on a virtual clock:
/// 1. Attempt 1 starts on a random destination, its timer armed as any attempt's (<see cref="AttemptTiming"/>).
/// 2. When no attempt has won after <c>delay</c>, or an attempt fails, another starts on the next destination, as
///    long as attempts remain and it passes the retry decision (<see cref="RetryDecider.TryAdmitExtraAttempt"/>): the
///    budget, <c>max_concurrent_retries</c>, <c>max_waiting_retries</c>, the deadline and the upstream's pushback
///    bound hedges as they bound retries. The first refusal stops the race from asking again.
/// 3. Each response is decided as it arrives (<see cref="RetryDecider.DecideResponseAsync"/>, from the sender): the
///    first acceptable one claims the win; a retryable one is dropped while another attempt may answer, or, alone,
///    admits its replacement now (started after the upstream's Retry-After or pushback delay) or wins when refused.
/// 4. The winner's response is relayed and the others cancelled. With no winner once every attempt is over, the caller
///    gets 502 (an invalid response among them, or none usable) or 504 (the deadline passed).
/// Every attempt is counted and traced, and recorded on the request's <see cref="AttemptTrail"/> when it keeps one.
/// </summary>
internal sealed partial class HedgeRace
{
    /// <summary>The log category of the race's lines, which operators filter on.</summary>
    public const string LogCategory = "Sidecar.Hedging.HedgeRace";

    private readonly RetryDecider _decider;
    private readonly TimeProvider _timeProvider;
    private readonly IRandomSource _random;
    private readonly SidecarMetrics _metrics;
    private readonly ILogger _logger;

    public HedgeRace(RetryDecider decider, TimeProvider timeProvider, IRandomSource random, SidecarMetrics metrics, ILoggerFactory loggerFactory)
    {
        _decider = decider;
        _timeProvider = timeProvider;
        _random = random;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger(LogCategory);
    }

    /// <summary>Runs the race of <paramref name="state"/>'s request; returns its outcome and the attempts started.</summary>
    public async Task<(RequestOutcome Outcome, int Attempts)> RunAsync(RetryState state, IHedgeSender sender, CancellationToken requestAborted)
    {
        var hedge = state.Plan.Options.Hedge!;
        var destinations = sender.DestinationCount;
        if (destinations == 0)
        {
            return (await AnswerAsync(state, sender, LoopAnswer.NoResponse, 0, RequestOutcome.NotRetryable, timedOut: false), 0);
        }

        var group = new HedgeGroup(Math.Min(state.MaxAttempts, 1 + hedge.MaxExtra));
        var attempts = new List<HedgeAttempt>(group.MaxAttempts);
        var first = Math.Min((int)(_random.NextDouble() * destinations), destinations - 1);
        using var callerLeft = requestAborted.Register(static g => ((HedgeGroup)g!).Signal(), group);
        try
        {
            Start(sender, state, group, attempts, first, requestAborted);
            // Woken by the claim alone, the race could read the winner's outcome before the decider set it.
            while (!group.WinnerCommitted)
            {
                await group.NextEventAsync();
                if (requestAborted.IsCancellationRequested)
                {
                    return (RequestOutcome.ClientCancelled, group.Started);
                }

                if (group.WinnerCommitted)
                {
                    break;
                }

                var anyFailed = false;
                while (group.Failed.TryRead(out _))
                {
                    anyFailed = true;
                }

                var delayElapsed = group.TakeDelayElapsed();
                if (group.TryTakeAdmitted(out var wait))
                {
                    // A retryable response made room for its replacement, which passed the decision then: only the
                    // upstream's Retry-After or pushback may still hold it back.
                    if (wait > TimeSpan.Zero && !await _decider.WaitAsync(state, wait, requestAborted))
                    {
                        return (RequestOutcome.ClientCancelled, group.Started);
                    }

                    if (group.Started < group.MaxAttempts && !group.HasWinner)
                    {
                        Start(sender, state, group, attempts, (first + group.Started) % destinations, requestAborted);
                    }

                    // Otherwise an extra attempt started after the delay took the slot first (or another attempt won).
                    // Another round reads what else came meanwhile (a second admitted replacement has no event of its own).
                    group.Signal();
                    continue;
                }

                if ((anyFailed || delayElapsed) && group.CanStartMore)
                {
                    if (_decider.TryAdmitExtraAttempt(state, group.Started, RetryReason.Hedge, serverDelay: null, out _, out _))
                    {
                        Start(sender, state, group, attempts, (first + group.Started) % destinations, requestAborted);
                        continue;
                    }

                    group.StopStarting();
                }

                if (group.InFlight == 0 && !group.HasWinner)
                {
                    return (await GiveUpAsync(state, sender, attempts, group.Started), group.Started);
                }
            }

            var winner = await group.Winner;
            foreach (var attempt in attempts)
            {
                if (!ReferenceEquals(attempt, winner))
                {
                    // Cancelled inline, not with CancelAsync: its callbacks stay on this thread (a simulation's loop).
                    attempt.Cancellation.Cancel();
                }
            }

            var outcome = winner.State.Outcome;
            Decided(state, outcome);
            var relayed = await sender.RelayAsync(winner.State, winner.Ended, group.Started, requestAborted);
            return (relayed ? outcome : RequestOutcome.ClientCancelled, group.Started);
        }
        finally
        {
            group.Dispose();
            foreach (var attempt in attempts)
            {
                attempt.Cancellation.Cancel();
            }

            foreach (var attempt in attempts)
            {
                await attempt.Ended;
                attempt.Dispose();
            }

            // An admitted replacement the race never started gives back the wait slot its decision took.
            while (group.TryTakeAdmitted(out var unused))
            {
                if (unused > TimeSpan.Zero)
                {
                    _decider.EndWait(state);
                }
            }
        }
    }

    private void Start(IHedgeSender sender, RetryState request, HedgeGroup group, List<HedgeAttempt> attempts, int destination, CancellationToken requestAborted)
    {
        var number = group.Started + 1;
        var attempt = new HedgeAttempt(number, group, request, destination);
        var state = request.ForHedge(number, group.MaxAttempts, attempt);
        var now = _timeProvider.GetTimestamp();
        attempt.Attach(state, AttemptTiming.Arm(_timeProvider, state, now, requestAborted));
        group.OnStarted();
        group.ArmDelay(_timeProvider, request.Plan.Options.Hedge!.Delay);
        attempts.Add(attempt);
        if (number > 1)
        {
            LogHedgeStarted(request.Route.RouteName, number, (long)_timeProvider.GetElapsedTime(request.StartTimestamp, now).TotalMilliseconds);
        }

        attempt.Ended = SendAsync(sender, attempt, requestAborted);
    }

    /// <summary>One attempt, on a task of its own: sent, then counted, traced and reported to the race.</summary>
    private async Task<SentAttempt> SendAsync(IHedgeSender sender, HedgeAttempt attempt, CancellationToken requestAborted)
    {
        var state = attempt.State;
        var start = _timeProvider.GetTimestamp();
        SentAttempt sent = default;
        Activity? activity = null;
        try
        {
            // Yield first: the race's loop must not run the sender's synchronous part inline.
            await Task.Yield();
            // A child of the request span (current in the race's loop), and current while this attempt is sent, so
            // its context is what the upstream receives. Null unless a tracer listens.
            activity = SidecarActivitySource.StartAttempt(state.Route.RouteName, attempt.Number);
            sent = await sender.SendAsync(state, attempt.Destination, attempt.Cancellation.Token);
            return sent;
        }
        finally
        {
            var responded = sent.Failure is null && !sent.InvalidResponse && state.ResponseStatus > 0;
            var result = Result(attempt, sent, responded, requestAborted.IsCancellationRequested);
            SidecarActivitySource.SetAttemptResult(activity, result, responded ? state.ResponseStatus : 0);
            activity?.Dispose();
            var duration = _timeProvider.GetElapsedTime(start);
            _metrics.AttemptCompleted(state.Route.RouteName, state.Route.ClusterName, result, duration);
            attempt.Request.Trail?.Completed(new AttemptRecord(attempt.Number, sent.Destination, responded ? state.ResponseStatus : 0, result, duration, GrpcStatus: responded ? state.GrpcStatus : -1));
            attempt.Sent = sent;
            attempt.Group.OnFinished(attempt);
        }
    }

    /// <summary>
    /// The attempt's <c>sidecar_upstream_attempts_total</c> result: its response's status class, else its transport
    /// error; cancelled with no winner and the caller still there, only its own per-try (or deadline) timer did it.
    /// </summary>
    private static AttemptResult Result(HedgeAttempt attempt, SentAttempt sent, bool responded, bool callerLeft) =>
        sent.InvalidResponse ? AttemptResult.InvalidResponse
        : responded ? AttemptResults.OfStatus(attempt.State.ResponseStatus)
        : !attempt.Cancellation.IsCancellationRequested ? sent.Failure?.Kind.Result ?? AttemptResult.Error
        : !callerLeft && !attempt.Group.HasWinner ? AttemptResult.PerTryTimeout
        : AttemptResult.Cancelled;

    /// <summary>Every attempt is over and none won: an invalid response is answered as such, else 504 past the deadline, else 502.</summary>
    private Task<RequestOutcome> GiveUpAsync(RetryState state, IHedgeSender sender, List<HedgeAttempt> attempts, int started)
    {
        foreach (var attempt in attempts)
        {
            if (attempt.Sent.InvalidResponse)
            {
                return AnswerAsync(state, sender, LoopAnswer.InvalidResponse, started, RequestOutcome.NotRetryable, timedOut: false);
            }
        }

        LogGaveUp(state.Route.RouteName, started);
        return state.HasDeadline && _timeProvider.GetTimestamp() >= state.DeadlineTimestamp
            ? AnswerAsync(state, sender, LoopAnswer.NoResponse, started, RequestOutcome.DeadlineExceeded, timedOut: true)
            : AnswerAsync(state, sender, LoopAnswer.NoResponse, started, RequestOutcome.Exhausted, timedOut: false);
    }

    private static async Task<RequestOutcome> AnswerAsync(RetryState state, IHedgeSender sender, LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        Decided(state, outcome);
        await sender.AnswerAsync(answer, attempts, outcome, timedOut);
        return outcome;
    }

    /// <summary>The explain header, set as the response starts, names the outcome known before the answer goes out.</summary>
    private static void Decided(RetryState request, RequestOutcome outcome)
    {
        if (request.Trail is { } trail)
        {
            trail.Decision = outcome;
        }
    }

    // Per hedge and per request, so Debug: at the default level the route's summary line counts them (Logging/RetryLog).
    [LoggerMessage(EventId = 220, Level = LogLevel.Debug, Message = "Hedging route {Route}: attempt {Attempt} started {ElapsedMs} ms into the request")]
    private partial void LogHedgeStarted(string route, int attempt, long elapsedMs);

    [LoggerMessage(EventId = 221, Level = LogLevel.Debug, Message = "Route {Route}: no usable response from {Attempts} hedged attempts")]
    private partial void LogGaveUp(string route, int attempts);
}
