namespace Sidecar.Logging;

internal static class LoggingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RetryLog"/> (resolved per route by the config store) as a summary source and the
    /// <see cref="LogSummaryService"/> that summarizes every source each <paramref name="interval"/>.
    /// </summary>
    public static IServiceCollection AddSidecarLogSummaries(this IServiceCollection services, TimeSpan interval)
    {
        services.AddSingleton<RetryLog>();
        services.AddSingleton<ILogSummarySource>(static sp => sp.GetRequiredService<RetryLog>());
        services.AddHostedService(sp => new LogSummaryService(sp.GetServices<ILogSummarySource>(), sp.GetRequiredService<TimeProvider>(), interval));
        return services;
    }
}
