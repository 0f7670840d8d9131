using System.IO.Pipelines;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Hedging;

/// <summary>
/// One attempt of a hedged request, forwarded on its own <see cref="HttpContext"/> whose response body is a pipe, so
/// several attempts can be in flight while the caller's response is untouched until one of them wins.
/// </summary>
internal sealed class HedgeAttempt : IDisposable
{
    public HedgeAttempt(int number, HedgeGroup group, HttpContext context, DestinationState destination, CancellationTokenSource cancellation, Pipe body)
    {
        Number = number;
        Group = group;
        Context = context;
        Destination = destination;
        Cancellation = cancellation;
        Body = body;
    }

    public int Number { get; }

    public HedgeGroup Group { get; }

    public HttpContext Context { get; }

    public DestinationState Destination { get; }

    public CancellationTokenSource Cancellation { get; }

    public Pipe Body { get; }

    public Task<ForwarderError> Forwarding { get; set; } = Task.FromResult(ForwarderError.None);

    public void Dispose() => Cancellation.Dispose();
}
