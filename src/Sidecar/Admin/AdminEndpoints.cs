using Sidecar.Routing;

namespace Sidecar.Admin;

/// <summary>
/// The admin port: <c>/healthz</c>, <c>/readyz</c>, <c>/config</c> and <c>/metrics</c>. It serves no secrets. The
/// optional metrics port (<c>listen.metrics</c>) serves the subset Prometheus and the kubelet need, so the admin port
/// and its <c>/config</c> (the whole topology) can stay on loopback.
/// </summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapMetricsEndpoints();
        endpoints.MapGet("/config", static (HttpContext context, SidecarConfigStore store) => EffectiveConfigWriter.WriteAsync(context, store.Config));
    }

    /// <summary><c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>: what the metrics port serves, and the admin port too.</summary>
    public static void MapMetricsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Liveness: the process answers. It stays healthy while draining so Kubernetes does not kill a drain.
        endpoints.MapGet("/healthz", static () => Results.Text("ok\n"));

        endpoints.MapGet("/readyz", static (ReadinessState readiness) => readiness.IsReady
            ? Results.Text("ready\n")
            : Results.Text(readiness.IsDraining ? "draining\n" : readiness.IsOverloaded ? "overloaded\n" : "starting\n", statusCode: StatusCodes.Status503ServiceUnavailable));

        // The OpenTelemetry Prometheus exporter of the proxy's meters (TelemetryServiceCollectionExtensions): the text
        // format by default, OpenMetrics when the scraper asks for it, as Prometheus does.
        endpoints.MapPrometheusScrapingEndpoint("/metrics")
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .WithDisplayName("Prometheus metrics");
    }
}
