using System.Diagnostics;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Telemetry;

/// <summary>
/// Sends the current attempt span's trace context (W3C <c>traceparent</c> and <c>tracestate</c>, through
/// <see cref="DistributedContextPropagator.Current"/>) to the upstream in place of the caller's, so the upstream's spans
/// are children of the exported attempt that reached them. Runs on every route while tracing is on (see
/// <see cref="TraceContextTransformProvider"/>), for each attempt and hedge.
/// </summary>
internal sealed class TraceContextTransform : RequestTransform
{
    public static readonly TraceContextTransform Instance = new();

    private static readonly DistributedContextPropagator.PropagatorSetterCallback Replace = static (carrier, name, value) =>
    {
        var headers = ((HttpRequestMessage)carrier!).Headers;
        headers.Remove(name);
        headers.TryAddWithoutValidation(name, value);
    };

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        // An attempt span is current while YARP forwards an attempt (AttemptLoop, HedgedForwarder); nothing else
        // starts spans from the Sidecar source on this path. Unsampled attempts are sent too, with their 00 flags.
        if (Activity.Current is { } attempt && ReferenceEquals(attempt.Source, SidecarActivitySource.Source))
        {
            DistributedContextPropagator.Current.Inject(attempt, context.ProxyRequest, Replace);
        }

        return ValueTask.CompletedTask;
    }
}
