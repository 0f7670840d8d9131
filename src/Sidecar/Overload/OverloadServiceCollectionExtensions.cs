using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sidecar.Telemetry;

namespace Sidecar.Overload;

internal static class OverloadServiceCollectionExtensions
{
    /// <summary>
    /// Registers the overload manager (started with the host), request admission, the GC as the pressure source
    /// unless one is registered already, Kestrel's socket transport wrapped so that accepting can pause, and Kestrel's
    /// buffer pools made trimmable.
    /// </summary>
    public static IServiceCollection AddSidecarOverload(this IServiceCollection services)
    {
        services.TryAddSingleton<IMemoryPressureSource, GcMemoryPressureSource>();
        services.AddSingleton<TrimmableMemoryPoolFactory>();
        services.AddSingleton<IMemoryPoolFactory<byte>>(static sp => sp.GetRequiredService<TrimmableMemoryPoolFactory>());
        services.AddSingleton<HeapTrimmer>();
        services.AddSingleton<OverloadManager>();
        services.AddHostedService(static sp => sp.GetRequiredService<OverloadManager>());
        services.AddSingleton<RequestAdmission>();
        services.AddSingleton<ConnectionSlots>();
        // What a plain-text connection reads ahead of its request (at most Kestrel's own request buffer, SidecarHost).
        services.Configure<SocketTransportOptions>(static o => o.MaxReadBufferSize = Configuration.MemoryBudget.ConnectionReadAheadBytes);
        services.Replace(ServiceDescriptor.Singleton<IConnectionListenerFactory>(static sp =>
        {
            var metrics = sp.GetRequiredService<SidecarMetrics>();
            return new PausingConnectionListenerFactory(
                new SocketTransportFactory(sp.GetRequiredService<IOptions<SocketTransportOptions>>(), sp.GetRequiredService<ILoggerFactory>()),
                sp.GetRequiredService<OverloadManager>(),
                sp.GetRequiredService<ConnectionSlots>(),
                () => metrics.OverloadShed(OverloadAction.ConnectionHeld.Label()),
                () => metrics.OverloadShed(OverloadAction.ConnectionLimit.Label()),
                () => metrics.OverloadShed(OverloadAction.IdleConnectionClosed.Label()));
        }));
        return services;
    }
}
