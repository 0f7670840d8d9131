using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Retries;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Pipeline;

/// <summary>
/// Hands each response to <see cref="RetryDecider"/> at the only point YARP allows a retry: status and headers are
/// known and no byte has reached the caller (YARP sends the status and headers only after the response transforms
/// have run). A suppressed response's body is dropped (YARP disposes the upstream response); a committed one is
/// streamed, its per-try timer disarmed.
/// </summary>
internal sealed class RetryResponseTransform : ResponseTransform
{
    private readonly RetryDecider _decider;

    public RetryResponseTransform(RetryDecider decider) => _decider = decider;

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var state = context.HttpContext.Features.Get<RetryState>();
        var response = context.ProxyResponse;
        // Suppressed already: the upstream's response was invalid (UpstreamResponseTransform), nothing to decide on.
        if (state is null || response is null || context.SuppressResponseBody)
        {
            return;
        }

        context.HttpContext.Response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(state.Attempt);
        var decision = await _decider.DecideResponseAsync(state, response, context.CancellationToken);
        context.SuppressResponseBody = decision.Suppress;
        if (!decision.Suppress && state.GrpcStatus >= 0)
        {
            // A trailers-only status goes out as Sidecar read it: "14 " would be refused by strict clients.
            GrpcProtocol.TrimStatus(context.HttpContext.Response.Headers);
        }

        if (decision.ValidationFailed)
        {
            context.HttpContext.Response.Headers[SidecarHeaders.Validation] = "failed";
        }
    }
}
