using Sidecar.AccessLog;
using Sidecar.BodyReplay;
using Sidecar.Hedging;
using Sidecar.Retries;

namespace Sidecar.Pipeline;

internal static class RetryServiceCollectionExtensions
{
    /// <summary>Registers the retry engine: decider, attempt loop, hedging, transforms, caps on buffered bytes and waiting requests.</summary>
    public static IServiceCollection AddSidecarRetries(this IServiceCollection services)
    {
        services.AddSingleton<RetryDecider>();
        services.AddSingleton<AttemptLoop>();
        services.AddSingleton<SingleAttemptForwarder>();
        services.AddSingleton<TlsFailureLog>();
        services.AddSingleton<BackoffWaitLimiter>();
        services.AddSingleton<BufferedBytesAccount>();
        services.AddSingleton<AttemptHeadersTransform>();
        services.AddSingleton<RetryResponseTransform>();
        services.AddSingleton<HedgeRace>();
        services.AddSingleton<HedgedForwarder>();
        // stdout, raw: the access log's lines are JSON whatever the text logger's format is.
        services.AddSingleton(sp => new AccessLogWriter(Console.OpenStandardOutput(), sp.GetRequiredService<Telemetry.SidecarMetrics>()));
        services.AddHostedService(sp => sp.GetRequiredService<AccessLogWriter>());
        services.AddSingleton<AccessLogRecorder>();
        return services;
    }
}
