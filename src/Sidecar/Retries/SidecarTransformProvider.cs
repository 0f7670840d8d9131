using Sidecar.Hosting;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Sidecar.Retries;

/// <summary>Adds the retry transforms to routes that declare a policy; routes without one keep YARP's plain transforms.</summary>
internal sealed class SidecarTransformProvider : ITransformProvider
{
    private readonly AttemptHeadersTransform _attemptHeaders;
    private readonly RetryResponseTransform _retryResponse;

    public SidecarTransformProvider(AttemptHeadersTransform attemptHeaders, RetryResponseTransform retryResponse)
    {
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
        if (context.Route.Metadata?.ContainsKey(YarpConfigMapper.PolicyMetadataKey) == true)
        {
            context.RequestTransforms.Add(_attemptHeaders);
            context.ResponseTransforms.Add(_retryResponse);
        }
    }
}
