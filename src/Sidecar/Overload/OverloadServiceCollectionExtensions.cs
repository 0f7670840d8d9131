using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sidecar.Telemetry;

namespace Sidecar.Overload;

internal static class OverloadServiceCollectionExtensions
{
    /// <summary>
    /// Connections the kernel may hold established and unaccepted, as Envoy's listeners do by default (.NET's is 512;
    /// Linux caps it at <c>net.core.somaxconn</c>, 4096 by default). Past <c>max_pending_connections</c> a burst waits
    /// there, where it costs the pod nothing and its time counts against each request's wait for a slot. With 512, a
    /// 1,000-connection burst in a 64 MiB pod overflowed it: the dropped connection attempts were retried by the
    /// callers' kernels for up to half a minute, unseen, and 84 to 87 callers passed hey's 60 s timeout.
    /// </summary>
    internal const int ListenBacklog = 1024;

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
        services.Configure<SocketTransportOptions>(static o =>
        {
            o.MaxReadBufferSize = Configuration.MemoryBudget.ConnectionReadAheadBytes;
            o.Backlog = ListenBacklog;
        });
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
