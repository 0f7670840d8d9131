using Sidecar.BodyReplay;
using Sidecar.Hedging;
using Sidecar.Retries;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// Hedging in the proxy: runs the request's race (Hedging/<see cref="HedgeRace"/>) with its attempts forwarded by
/// YARP (<see cref="YarpHedgeSender"/>), and writes the caller's response.
/// </summary>
internal sealed class HedgedForwarder
{
    private readonly IHttpForwarder _forwarder;
    private readonly HedgeRace _race;

    public HedgedForwarder(IHttpForwarder forwarder, HedgeRace race)
    {
        _forwarder = forwarder;
        _race = race;
    }

    /// <summary>Runs the race and writes the caller's response; returns the request's outcome and attempts made.</summary>
    public Task<(RequestOutcome Outcome, int Attempts)> ForwardAsync(HttpContext context, IReverseProxyFeature proxyFeature, RetryState state, ReplayableRequestBody? body, CancellationToken requestAborted) =>
        _race.RunAsync(state, new YarpHedgeSender(_forwarder, context, proxyFeature, state.Route, body), requestAborted);
}
