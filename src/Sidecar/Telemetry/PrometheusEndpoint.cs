namespace Sidecar.Telemetry;

/// <summary>Maps the Prometheus scrape endpoint.</summary>
internal static class PrometheusEndpoint
{
    /// <summary>
    /// Serves the <see cref="PrometheusExporter"/> registered by
    /// <see cref="TelemetryServiceCollectionExtensions.AddSidecarTelemetry"/> at <paramref name="pattern"/>
    /// (GET and HEAD) as <c>text/plain; version=0.0.4; charset=utf-8</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapPrometheusMetrics(this IEndpointRouteBuilder endpoints, string pattern = "/metrics")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);

        // Resolved at startup, not per scrape: the exporter must already be listening before traffic.
        var exporter = endpoints.ServiceProvider.GetRequiredService<PrometheusExporter>();
        return endpoints
            .MapMethods(pattern, [HttpMethods.Get, HttpMethods.Head], context => WriteAsync(context, exporter))
            .WithDisplayName("Prometheus metrics");
    }

    private static async Task WriteAsync(HttpContext context, PrometheusExporter exporter)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = PrometheusExporter.ContentType;
        response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        exporter.WriteTo(response.BodyWriter);
        await response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
