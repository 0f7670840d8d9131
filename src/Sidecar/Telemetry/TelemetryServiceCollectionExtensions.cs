using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Sidecar.Configuration;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Sidecar.Telemetry;

/// <summary>Registers Sidecar's metrics and spans and the OpenTelemetry SDK that exports them.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>The default <c>service.name</c>, unless <c>OTEL_SERVICE_NAME</c> or <c>OTEL_RESOURCE_ATTRIBUTES</c> set one.</summary>
    public const string DefaultServiceName = "sidecar";

    /// <summary>.NET's own meters behind <see cref="TelemetryOptions.DotnetMetrics"/>: Kestrel, the upstream HTTP client, the runtime.</summary>
    public static readonly IReadOnlyList<string> DotnetMeters = ["Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime"];

    /// <summary>
    /// Registers, in the host's container:
    /// 1. <see cref="SidecarMetrics"/> on the host's <see cref="IMeterFactory"/>, and the meters enabled for it
    ///    (<see cref="DotnetMeters"/> too when <paramref name="telemetry"/> says so);
    /// 2. the OpenTelemetry SDK (<c>AddOpenTelemetry</c>) with the Prometheus exporter that the admin port's
    ///    <c>/metrics</c> serves (<see cref="Admin.AdminEndpoints"/>);
    /// 3. when an OTLP endpoint is configured (<see cref="OtlpExport"/>), <c>UseOtlpExporter</c> for every signal and
    ///    the Sidecar activity source, whose attempt spans are the parents the upstream sees (<see cref="TraceContextTransform"/>).
    /// </summary>
    public static IServiceCollection AddSidecarTelemetry(this IServiceCollection services, IConfiguration configuration, TelemetryOptions telemetry)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(telemetry);

        // Meters are enabled through the host's metrics rules rather than the SDK's AddMeter: a rule matches only meters
        // of this host's IMeterFactory (and global ones such as System.Runtime), so two hosts in one process, as in the
        // functional tests, never count each other's requests.
        services.AddMetrics(metrics =>
        {
            metrics.EnableMetrics(SidecarMetrics.MeterName);
            if (telemetry.DotnetMetrics)
            {
                foreach (var meter in DotnetMeters)
                {
                    metrics.EnableMetrics(meter);
                }
            }
        });

        var openTelemetry = services.AddOpenTelemetry()
            .ConfigureResource(static resource => resource
                .Clear()
                .AddService(DefaultServiceName, serviceVersion: typeof(SidecarMetrics).Assembly.GetName().Version?.ToString())
                .AddTelemetrySdk()
                // After the default name, so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
                .AddEnvironmentVariableDetector())
            .WithMetrics(static metrics => metrics.AddPrometheusExporter(static prometheus =>
            {
                // The names README documents and nothing else: without these every series would carry otel_scope_name
                // and otel_scope_version labels, and a target_info series would repeat the resource.
                prometheus.ScopeInfoEnabled = false;
                prometheus.TargetInfoEnabled = false;
                // A scrape sees every request finished before it; the default caches answers for 300 ms.
                prometheus.ScrapeResponseCacheDurationMilliseconds = 0;
            }));

        var otlp = OtlpExport.From(configuration);
        if (otlp.Traces)
        {
            openTelemetry.WithTracing(static tracing => tracing.AddSource(SidecarActivitySource.Name));
            services.AddSingleton<ITransformProvider, TraceContextTransformProvider>();
        }

        if (otlp.Enabled)
        {
            openTelemetry.UseOtlpExporter();
        }

        services.TryAddSingleton(static sp =>
        {
            // The host starts its metrics subscriptions (and with them the MeterProvider) in its startup validation,
            // when it starts; SidecarConfigStore is built before that and publishes the series that start at 0 through
            // this instance. Validating first makes the listeners exist when those first measurements are made.
            sp.GetService<IStartupValidator>()?.Validate();
            return new SidecarMetrics(sp.GetRequiredService<IMeterFactory>());
        });
        return services;
    }
}
