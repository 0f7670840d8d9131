using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>Reports an attempt's result to the cluster's circuit breaker (Circuits/), and an opened circuit to metrics and the log.</summary>
internal static class CircuitRecorder
{
    /// <param name="context">The caller's request.</param>
    /// <param name="proxyFeature">YARP's view of it: the destination the attempt went to.</param>
    /// <param name="route">The route.</param>
    /// <param name="status">The attempt's status (502 for an invalid response).</param>
    /// <param name="error">YARP's error, when the attempt ended with one.</param>
    /// <param name="probe">The destination the breaker let through as a probe, if any.</param>
    /// <param name="metrics">Where an opened circuit is counted.</param>
    public static void Record(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, int status, IForwarderErrorFeature? error, DestinationState? probe, SidecarMetrics metrics)
    {
        var destination = proxyFeature.ProxiedDestination;
        if (route.Breaker is { } breaker
            && breaker.RecordAttempt(destination, failure: error is not null || status >= 500, callerLeft: error is not null && context.RequestAborted.IsCancellationRequested, probe))
        {
            metrics.CircuitOpened(route.ClusterName);
            route.Log.Cluster.CircuitOpened(destination!.DestinationId, breaker.Options.BreakDuration);
        }
    }
}
