using Sidecar.Retries;

namespace Sidecar.Hedging;

/// <summary>
/// One attempt of a hedged request, as the race keeps it: its number, destination, own <see cref="RetryState"/>
/// (on which its response is decided), its timer, and the task that ends with it. Several are in flight at once; the
/// caller's response is untouched until one of them wins (<see cref="IHedgeSender.RelayAsync"/>).
/// </summary>
internal sealed class HedgeAttempt : IHedgedAttempt, IDisposable
{
    public HedgeAttempt(int number, HedgeGroup group, RetryState request, int destination)
    {
        Number = number;
        Group = group;
        Request = request;
        Destination = destination;
    }

    public int Number { get; }

    public HedgeGroup Group { get; }

    public RetryState Request { get; }

    /// <summary>Index of the destination (<see cref="IHedgeSender.DestinationCount"/>).</summary>
    public int Destination { get; }

    /// <summary>The attempt's own state (<see cref="Attach"/>).</summary>
    public RetryState State { get; private set; } = null!;

    /// <summary>The attempt's timer: the caller leaving, its per-try timeout or the deadline, or losing the race.</summary>
    public CancellationTokenSource Cancellation { get; private set; } = null!;

    /// <summary>The attempt as sent (<see cref="IHedgeSender.SendAsync"/>), completed when it is over.</summary>
    public Task<SentAttempt> Ended { get; set; } = Task.FromResult(default(SentAttempt));

    /// <summary>What the attempt left behind, set before it reports itself finished (<see cref="HedgeGroup.OnFinished"/>).</summary>
    public SentAttempt Sent { get; set; }

    public int Started => Group.Started;

    public int InFlight => Group.InFlight;

    /// <summary>The attempt's state and timer, made once the attempt exists (its state points back at it).</summary>
    public void Attach(RetryState state, CancellationTokenSource cancellation)
    {
        State = state;
        Cancellation = cancellation;
    }

    public bool TryReserveNext() => Group.TryReserveNext();

    public void CancelReservation() => Group.CancelReservation();

    public void AdmitReserved(TimeSpan delay) => Group.AdmitReserved(delay);

    public bool TryClaimWin() => Group.TryClaim(this);

    public void Committed() => Group.OnWinnerCommitted();

    public void StopStarting() => Group.StopStarting();

    public void Dispose() => Cancellation?.Dispose();
}
