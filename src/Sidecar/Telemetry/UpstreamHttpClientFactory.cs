using System.Diagnostics.Metrics;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Telemetry;

/// <summary>
/// YARP's client factory, with two telemetry changes to each cluster's <see cref="SocketsHttpHandler"/>:
/// <list type="bullet">
/// <item>No <see cref="SocketsHttpHandler.ActivityHeadersPropagator"/>. With one, the handler starts its own
/// <c>System.Net.Http</c> span under Sidecar's attempt span, never exported, and sends that span's id upstream: the
/// upstream's spans would hang off a parent no tracing backend has. <see cref="TraceContextTransform"/> sends the attempt
/// span's context instead; with tracing off, the caller's <c>traceparent</c> passes through as the caller sent it.</item>
/// <item>The host's <see cref="IMeterFactory"/>, so the client's <c>System.Net.Http</c> meter belongs to this host like
/// Kestrel's (see <see cref="TelemetryServiceCollectionExtensions.DotnetMeters"/>).</item>
/// </list>
/// </summary>
internal sealed class UpstreamHttpClientFactory : ForwarderHttpClientFactory
{
    private readonly IMeterFactory _meterFactory;

    public UpstreamHttpClientFactory(IMeterFactory meterFactory, ILogger<ForwarderHttpClientFactory> logger)
        : base(logger)
    {
        _meterFactory = meterFactory;
    }

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = null;
        handler.MeterFactory = _meterFactory;
    }
}
