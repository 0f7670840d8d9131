using Sidecar.Forwarding;
using Sidecar.Routing;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Sidecar.Pipeline;

/// <summary>
/// Adds Sidecar's transforms to YARP's routes: on every route the raw request target and the checks and clean-up of
/// upstream responses (<see cref="UpstreamResponseTransform"/> first, so the retry transform sees a clean response),
/// and a cluster's <c>tls.server_name</c> as Host (<see cref="ServerNameTransform"/>);
/// on routes that declare a policy, the attempt headers and the retry-or-commit decision; on the others,
/// <see cref="EarlyAnswerTransform"/> (a policy route does the same per attempt).
/// </summary>
internal sealed class SidecarTransformProvider : ITransformProvider
{
    private readonly RequestTargetTransform _requestTarget;
    private readonly UpstreamResponseTransform _upstreamResponse;
    private readonly AttemptHeadersTransform _attemptHeaders;
    private readonly RetryResponseTransform _retryResponse;
    private readonly ServerNameTransform _serverName;
    private readonly EarlyAnswerTransform _earlyAnswer = new();

    public SidecarTransformProvider(RequestTargetTransform requestTarget, UpstreamResponseTransform upstreamResponse, AttemptHeadersTransform attemptHeaders, RetryResponseTransform retryResponse, ServerNameTransform serverName)
    {
        _serverName = serverName;
        _requestTarget = requestTarget;
        _upstreamResponse = upstreamResponse;
        _attemptHeaders = attemptHeaders;
        _retryResponse = retryResponse;
    }

    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context)
    {
        context.RequestTransforms.Add(_requestTarget);
        context.RequestTransforms.Add(_serverName);
        context.ResponseTransforms.Add(_upstreamResponse);
        if (context.Route.Metadata?.ContainsKey(YarpConfigMapper.PolicyMetadataKey) == true)
        {
            context.RequestTransforms.Add(_attemptHeaders);
            context.ResponseTransforms.Add(_retryResponse);
        }
        else
        {
            context.RequestTransforms.Add(_earlyAnswer);
        }
    }
}
