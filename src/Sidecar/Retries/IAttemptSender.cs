using Sidecar.Telemetry;

namespace Sidecar.Retries;

/// <summary>
/// "Send one attempt and tell me what came back": the attempt loop's only view of the upstream and of the caller's
/// response. The proxy sends through the rest of YARP's pipeline (load balancing, passive health, YARP's
/// <c>IHttpForwarder</c>); a simulated upstream on a virtual clock implements it in tests. A response is decided
/// while it arrives, before any byte reaches the caller, by <see cref="RetryDecider.DecideResponseAsync"/>; what
/// was decided is on the <see cref="RetryState"/> when <see cref="SendAsync"/> returns.
/// </summary>
internal interface IAttemptSender
{
    /// <summary>Part of a response already reached the caller: nothing can be retried or answered any more.</summary>
    bool ResponseStarted { get; }

    /// <summary>
    /// Readies attempt 2 onwards: the previous attempt's response and error cleared, destinations not yet tried
    /// preferred, the body replayed. False when the body cannot be sent again.
    /// </summary>
    bool TryPrepareRetry(RetryState state);

    /// <summary>The circuit breaker admits the attempt (narrowing the destinations to those it admits).</summary>
    bool TryPassCircuit();

    /// <summary>Sends the attempt <paramref name="state"/> is at; <paramref name="attemptAborted"/> fires on the caller leaving or the attempt's timer.</summary>
    ValueTask<SentAttempt> SendAsync(RetryState state, CancellationToken attemptAborted);

    /// <summary>Answers the caller with an error of Sidecar's own (problem+json).</summary>
    /// <param name="answer">Which error.</param>
    /// <param name="attempts">Attempts made.</param>
    /// <param name="outcome">The request's outcome (its label is the answer's reason).</param>
    /// <param name="timedOut">For <see cref="LoopAnswer.NoResponse"/>: the attempt or the request ran out of time.</param>
    Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut);
}

/// <summary>What one attempt left behind, apart from what the decider recorded on the <see cref="RetryState"/>.</summary>
/// <param name="Status">The status the caller's response holds after the attempt.</param>
/// <param name="Failure">The transport error, when the attempt ended with one.</param>
/// <param name="InvalidResponse">The upstream's response broke HTTP's rules (it was answered with a 502).</param>
internal readonly record struct SentAttempt(int Status, TransportFailure? Failure, bool InvalidResponse);

/// <summary>A transport error: its kind, as the forwarder named it, and its message (for the log).</summary>
internal sealed record TransportFailure(TransportErrorKind Kind, string Error, string Message);

/// <summary>The errors the attempt loop answers itself.</summary>
internal enum LoopAnswer
{
    /// <summary>503: every destination's circuit is open.</summary>
    CircuitOpen,

    /// <summary>502: a retry was decided but the body grew past what could be kept.</summary>
    BodyNotReplayable,

    /// <summary>504: the deadline passed before an attempt could start.</summary>
    DeadlineBeforeAttempt,

    /// <summary>504: the attempt's timer fired after its response was committed, before any of it went out.</summary>
    TimedOutAfterCommit,

    /// <summary>502: the upstream's response broke HTTP's rules.</summary>
    InvalidResponse,

    /// <summary>No usable response: 504, 503, 400/413 or 502 after the forwarder's error.</summary>
    NoResponse,
}
