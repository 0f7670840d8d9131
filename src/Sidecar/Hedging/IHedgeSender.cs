using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.Hedging;

/// <summary>
/// The hedging race's only view of the upstream and of the caller's response, as <see cref="IAttemptSender"/> is the
/// attempt loop's: "send attempt N to destination D and tell me how it ended", "relay the winner", "answer an error".
/// <see cref="HedgeRace"/> decides everything else (when another attempt starts, who wins, the request's outcome,
/// the limits). The proxy implements it with YARP on shadow contexts (Pipeline/<c>YarpHedgeSender</c>); a simulated
/// upstream on a virtual clock implements it without sockets or an <see cref="HttpContext"/>:
/// <list type="number">
/// <item><see cref="SendAsync"/> waits for the scripted answer on the injected <see cref="TimeProvider"/>
/// (<c>Task.Delay(latency, time, attemptAborted)</c>), then hands the response to
/// <see cref="RetryDecider.DecideResponseAsync"/> with the attempt's own state, as the proxy's
/// response transform does: that decision claims the win (through <see cref="RetryState.Hedge"/>), drops the
/// response, or admits its replacement. It returns the <see cref="SentAttempt"/> (a failure: its
/// <see cref="TransportFailure"/>; a response that broke HTTP's rules: <see cref="SentAttempt.InvalidResponse"/>).</item>
/// <item><see cref="RelayAsync"/> records the winner's response (and may await its end); <see cref="AnswerAsync"/>
/// records the error answer.</item>
/// </list>
/// Several attempts are in flight at once: <see cref="SendAsync"/> is called concurrently, each call on its own task.
/// The race itself never blocks a thread or leaves the caller's <see cref="SynchronizationContext"/> (no thread-pool
/// hops, cancellations fired inline, timers only from the injected <see cref="TimeProvider"/>), so a simulation can
/// run it on a single-threaded loop that moves its virtual clock only when no continuation is left to run.
/// </summary>
internal interface IHedgeSender
{
    /// <summary>How many destinations the attempts spread over (attempt n goes to the n-th after a random first); 0 for none.</summary>
    int DestinationCount { get; }

    /// <summary>
    /// Sends the attempt <paramref name="attempt"/> is at (<see cref="RetryState.Attempt"/>) to destination
    /// <paramref name="destination"/> (0 to <see cref="DestinationCount"/> - 1). Completes when the attempt is over:
    /// it failed, its response was dropped, or, for the winner, its whole body went to <see cref="RelayAsync"/> (or
    /// broke off: then it returns a failure).
    /// </summary>
    /// <param name="attempt">The attempt's own state (<see cref="RetryState.ForHedge"/>), on which its response is decided.</param>
    /// <param name="destination">Index of the destination.</param>
    /// <param name="attemptAborted">Fires on the caller leaving, the attempt's per-try timeout or the deadline, or losing the race.</param>
    ValueTask<SentAttempt> SendAsync(RetryState attempt, int destination, CancellationToken attemptAborted);

    /// <summary>
    /// Makes the winner's response the caller's: its status and headers, <c>x-sidecar-attempts</c>
    /// set to <paramref name="attempts"/>, and its body as it streams. False when the caller left first.
    /// </summary>
    /// <param name="winner">The winning attempt's state (<see cref="RetryState.Attempt"/> is its number).</param>
    /// <param name="ended">The winner's <see cref="SendAsync"/>: a failure there means its body broke off.</param>
    /// <param name="attempts">Attempts started.</param>
    /// <param name="requestAborted">The caller leaving.</param>
    Task<bool> RelayAsync(RetryState winner, Task<SentAttempt> ended, int attempts, CancellationToken requestAborted);

    /// <summary>
    /// Answers the caller with an error of Sidecar's own: <see cref="LoopAnswer.InvalidResponse"/> (502), or
    /// <see cref="LoopAnswer.NoResponse"/>: no destination (503, <paramref name="attempts"/> 0), the deadline passed
    /// (504, <paramref name="timedOut"/>), or no usable response from any attempt (502).
    /// </summary>
    Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut);
}
