using Yarp.ReverseProxy.Transforms.Builder;

namespace Sidecar.Telemetry;

/// <summary>Adds <see cref="TraceContextTransform"/> to every route; registered only while spans are exported.</summary>
internal sealed class TraceContextTransformProvider : ITransformProvider
{
    public void ValidateRoute(TransformRouteValidationContext context)
    {
    }

    public void ValidateCluster(TransformClusterValidationContext context)
    {
    }

    public void Apply(TransformBuilderContext context) => context.RequestTransforms.Add(TraceContextTransform.Instance);
}
