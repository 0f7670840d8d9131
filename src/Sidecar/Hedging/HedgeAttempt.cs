using System.IO.Pipelines;
using Sidecar.Retries;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Hedging;

/// <summary>
/// One attempt of a hedged request, forwarded on its own <see cref="HttpContext"/> whose response body is a pipe, so
/// several attempts can be in flight while the caller's response is untouched until one of them wins.
/// </summary>
internal sealed class HedgeAttempt : IHedgedAttempt, IDisposable
{
    public HedgeAttempt(int number, HedgeGroup group, RetryState request, DestinationState destination)
    {
        Number = number;
        Group = group;
        Request = request;
        Destination = destination;
    }

    public int Number { get; }

    public HedgeGroup Group { get; }

    public RetryState Request { get; }

    /// <summary>The shadow context the attempt is forwarded on (<see cref="Attach"/>).</summary>
    public HttpContext Context { get; private set; } = null!;

    public DestinationState Destination { get; }

    /// <summary>The attempt's timer: the caller leaving, its per-try timeout or the deadline, or losing the race.</summary>
    public CancellationTokenSource Cancellation { get; private set; } = null!;

    /// <summary>The response body, read by the caller's response if this attempt wins.</summary>
    public Pipe Body { get; } = new();

    public Task<ForwarderError> Forwarding { get; set; } = Task.FromResult(ForwarderError.None);

    public int Started => Group.Started;

    public int InFlight => Group.InFlight;

    /// <summary>The attempt's context and timer, made once its state exists (the state points back at the attempt).</summary>
    public void Attach(HttpContext context, CancellationTokenSource cancellation)
    {
        Context = context;
        Cancellation = cancellation;
    }

    public bool TryReserveNext() => Group.TryReserveNext();

    public void CancelReservation() => Group.CancelReservation();

    public void AdmitReserved(TimeSpan delay) => Group.AdmitReserved(delay);

    public bool TryClaimWin() => Group.TryClaim(this);

    public void StopStarting() => Group.StopStarting();

    public void Dispose() => Cancellation?.Dispose();
}
