using Sidecar.Routing;

namespace Sidecar.Admin;

/// <summary>The admin port: <c>/healthz</c>, <c>/readyz</c>, <c>/config</c> and <c>/metrics</c>. It serves no secrets.</summary>
internal static class AdminEndpoints
{
    public static void MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Liveness: the process answers. It stays healthy while draining so Kubernetes does not kill a drain.
        endpoints.MapGet("/healthz", static () => Results.Text("ok\n"));

        endpoints.MapGet("/readyz", static (ReadinessState readiness) => readiness.IsReady
            ? Results.Text("ready\n")
            : Results.Text(readiness.IsDraining ? "draining\n" : "starting\n", statusCode: StatusCodes.Status503ServiceUnavailable));

        endpoints.MapGet("/config", static (HttpContext context, SidecarConfigStore store) => EffectiveConfigWriter.WriteAsync(context, store.Config));

        // The OpenTelemetry Prometheus exporter of the proxy's meters (TelemetryServiceCollectionExtensions): the text
        // format by default, OpenMetrics when the scraper asks for it, as Prometheus does.
        endpoints.MapPrometheusScrapingEndpoint("/metrics")
            .WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]))
            .WithDisplayName("Prometheus metrics");
    }
}
