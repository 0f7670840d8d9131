namespace Sidecar.Retries;

/// <summary>
/// One attempt of a hedged request as the retry decision sees it (Hedging/ runs the race): whether another attempt
/// may still answer, and the slots of the attempts that may still start. An extra attempt passes the same decision as
/// a retry (<see cref="RetryDecider.TryAdmitExtraAttempt"/>), taken on <see cref="Request"/>, the request's own state.
/// </summary>
internal interface IHedgedAttempt
{
    /// <summary>The state of the whole request: the retry slot it holds, the attempts it made.</summary>
    RetryState Request { get; }

    /// <summary>Attempts of the race started so far.</summary>
    int Started { get; }

    /// <summary>Attempts of the race still in flight, this one included.</summary>
    int InFlight { get; }

    /// <summary>Keeps a slot for the attempt that replaces this one; false when none is left or the race stopped.</summary>
    bool TryReserveNext();

    /// <summary>Gives back the slot <see cref="TryReserveNext"/> kept.</summary>
    void CancelReservation();

    /// <summary>
    /// The replacement passed the retry decision already: the race starts it without asking again, and not before
    /// <paramref name="delay"/> (the upstream's Retry-After or pushback; zero for at once).
    /// </summary>
    /// <param name="delay">How long the race waits before starting it; above zero the decision took a
    /// <c>max_waiting_retries</c> slot, which the wait gives back.</param>
    void AdmitReserved(TimeSpan delay);

    /// <summary>Makes this attempt the winner; false when another won first.</summary>
    bool TryClaimWin();

    /// <summary>The winner's response is committed (<see cref="RetryState.Commit"/>, its outcome set): the race may relay it.</summary>
    void Committed();

    /// <summary>No further attempt starts: a limit or the upstream refused one.</summary>
    void StopStarting();
}
