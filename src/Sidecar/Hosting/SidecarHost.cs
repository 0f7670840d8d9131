using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenTelemetry.Metrics;
using Sidecar.Admin;
using Sidecar.Configuration;
using Sidecar.Forwarding;
using Sidecar.Logging;
using Sidecar.Overload;
using Sidecar.Pipeline;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Sidecar.Tls;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Hosting;

/// <summary>
/// The running Sidecar: a proxy server on <c>listen.proxy</c>, an admin server on <c>listen.admin</c> and, when
/// <c>listen.metrics</c> is set, a metrics server. They are separate Kestrel applications sharing one set of
/// singletons, so the proxy pipeline holds nothing but YARP and the retry loop, no proxied request can ever reach an
/// admin endpoint, and no request to the metrics port can reach <c>/config</c>.
/// </summary>
internal sealed partial class SidecarHost : IAsyncDisposable
{
    /// <summary>
    /// The builders' arguments. The host's configuration (log levels, from an optional appsettings.json too) is
    /// read once at start, where it is validated, and not watched. Watching appsettings.json put an inotify watch on
    /// every directory under the working directory at start, which made the time to ready depend on where Sidecar was
    /// started from (the whole filesystem when that is <c>/</c>).
    /// Sidecar listens where its config's <c>listen:</c> says, so the hosting URLs (ASPNETCORE_URLS, and
    /// ASPNETCORE_HTTP_PORTS, which the .NET container images set to 8080) are emptied: otherwise Kestrel warns at
    /// every start in a container that it overrides them.
    /// </summary>
    private static readonly string[] BuilderArgs = ["--hostBuilder:reloadConfigOnChange=false", "--urls=", "--http_ports=", "--https_ports="];

    private readonly WebApplication _proxy;
    private readonly WebApplication _admin;
    private readonly WebApplication? _metrics;
    private readonly ReadinessState _readiness;
    private readonly ILogger<SidecarHost> _logger;
    private int _stopped;

    private SidecarHost(WebApplication proxy, WebApplication admin, WebApplication? metrics)
    {
        _proxy = proxy;
        _admin = admin;
        _metrics = metrics;
        _readiness = proxy.Services.GetRequiredService<ReadinessState>();
        // /readyz tells the truth: while memory pressure rejects new requests, Sidecar takes no new work.
        var readiness = _readiness;
        proxy.Services.GetRequiredService<OverloadManager>().StateChanged += state => readiness.SetOverloaded(state >= OverloadState.RejectRequests);
        _logger = proxy.Services.GetRequiredService<ILogger<SidecarHost>>();
        Store = proxy.Services.GetRequiredService<SidecarConfigStore>();
    }

    public SidecarConfigStore Store { get; }

    /// <summary>The proxy's bound address (with the real port when the config said port 0).</summary>
    public Uri ProxyAddress { get; private set; } = null!;

    public Uri AdminAddress { get; private set; } = null!;

    /// <summary>The metrics server's bound address, or <c>null</c> without <c>listen.metrics</c>.</summary>
    public Uri? MetricsAddress { get; private set; }

    public IServiceProvider Services => _proxy.Services;

    /// <summary>The admin server's container (tests: what it builds at start).</summary>
    internal IServiceProvider AdminServices => _admin.Services;

    /// <summary>Builds and starts both servers; returns once the proxy listens and <c>/readyz</c> says ready.</summary>
    public static async Task<SidecarHost> StartAsync(SidecarConfig config, SidecarHostOptions options, CancellationToken cancellationToken = default)
    {
        var proxy = BuildProxy(config, options);
        var admin = BuildAdmin("sidecar-admin", config.Listen.Admin, options, proxy.Services, static endpoints => endpoints.MapAdminEndpoints());
        var metrics = config.Listen.Metrics is { } metricsAddress
            ? BuildAdmin("sidecar-metrics", metricsAddress, options, proxy.Services, static endpoints => endpoints.MapMetricsEndpoints())
            : null;
        var host = new SidecarHost(proxy, admin, metrics);
        try
        {
            // All at once: each mostly builds its own middleware pipeline and Kestrel transport, so on two cores they
            // overlap. /readyz says "not ready" until all listen and MarkListening runs.
            var proxyStarted = Task.Run(() => proxy.StartAsync(cancellationToken), cancellationToken);
            var adminStarted = admin.StartAsync(cancellationToken);
            var metricsStarted = metrics?.StartAsync(cancellationToken) ?? Task.CompletedTask;
            await Task.WhenAll(proxyStarted, adminStarted, metricsStarted);
            host.AdminAddress = BoundAddress(admin);
            host.MetricsAddress = metrics is null ? null : BoundAddress(metrics);
            host.ProxyAddress = BoundAddress(proxy);
            host._readiness.MarkListening();
            host.LogListening(host.ProxyAddress, host.AdminAddress, config.SourcePath, config.Routes.Count, host.MetricsAddress?.ToString() ?? "the admin port");
            var limits = config.Limits;
            host.LogLimits(
                SizeParser.Format(limits.MaxBufferedBytes),
                limits.Origin(limits.MaxBufferedBytesConfigured),
                limits.MaxConcurrentRequests,
                limits.Origin(limits.MaxConcurrentRequestsConfigured),
                limits.MaxPendingConnections,
                limits.Origin(limits.MaxPendingConnectionsConfigured),
                MemoryBudget.FormatMebibytes(limits.Memory.AvailableBytes),
                limits.Memory.Source);
            if (limits.Memory.TooSmall)
            {
                host.LogMemoryTooSmall(MemoryBudget.FormatMebibytes(limits.Memory.AvailableBytes));
            }

            return host;
        }
        catch (Exception ex)
        {
            // The caller reports a failed start in one line (sidecar run: "cannot listen: ..."); the trace is for Debug.
            host.LogStartFailed(ex);
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Graceful drain: <c>/readyz</c> turns unready, new connections keep being accepted for <c>drain_delay</c> so
    /// Kubernetes can take the endpoint out of rotation, then the proxy stops accepting and in-flight requests (with
    /// their pending retries) get up to <c>drain_timeout</c> to finish.
    /// </summary>
    public async Task DrainAndStopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        var limits = Store.Config.Limits;
        _readiness.MarkDraining();
        LogDraining(limits.DrainDelay, limits.DrainTimeout);
        var timeProvider = _proxy.Services.GetRequiredService<TimeProvider>();
        try
        {
            await Task.Delay(limits.DrainDelay, timeProvider, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        _proxy.Services.GetRequiredService<DrainSignal>().Trigger();
        using var grace = new CancellationTokenSource(limits.DrainTimeout, timeProvider);
        await _proxy.StopAsync(grace.Token);
        await StopAdminServersAsync();
        LogStopped();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            _readiness.MarkDraining();
            _proxy.Services.GetRequiredService<DrainSignal>().Trigger();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _proxy.StopAsync(grace.Token);
            await StopAdminServersAsync();
        }

        await _proxy.DisposeAsync();
        await _admin.DisposeAsync();
        if (_metrics is not null)
        {
            await _metrics.DisposeAsync();
        }
    }

    private async Task StopAdminServersAsync()
    {
        await _admin.StopAsync(CancellationToken.None);
        if (_metrics is not null)
        {
            await _metrics.StopAsync(CancellationToken.None);
        }
    }

    private static WebApplication BuildProxy(SidecarConfig config, SidecarHostOptions options)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sidecar", Args = BuilderArgs });
        SidecarLogging.Configure(builder.Logging, builder.Configuration, options.LogLevel, options.JsonLogs, options.ConfigureLogging);
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Limits.DrainTimeout);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // What a connection may hold unread is what limits.max_pending_connections multiplies (MemoryBudget).
            kestrel.Limits.MaxRequestBufferSize = MemoryBudget.ConnectionBufferBytes;
            // A caller that stalls mid-header or sends its body too slowly holds a connection and a request slot:
            // both end on limits the operator sets (408). Kestrel reads them at start: they take effect at restart.
            kestrel.Limits.RequestHeadersTimeout = config.Limits.RequestHeaderTimeout;
            kestrel.Limits.MinRequestBodyDataRate = config.Limits.MinRequestBodyRate == 0 ? null
                : new Microsoft.AspNetCore.Server.Kestrel.Core.MinDataRate(config.Limits.MinRequestBodyRate, config.Limits.RequestHeaderTimeout);
            // A plain-text port serves one protocol: Kestrel cannot negotiate HTTP/2 without TLS. Over TLS, ALPN offers both.
            var protocols = config.Listen.Tls is not null ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2
                : config.Listen.ProxyProtocol == ProxyProtocol.H2c ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2
                : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1;
            var tls = config.Listen.Tls is null ? null : kestrel.ApplicationServices.GetRequiredService<TlsRegistry>();
            ListenAddress.Bind(kestrel, config.Listen.Proxy, listen =>
            {
                listen.Protocols = protocols;
                if (tls is not null)
                {
                    ListenerHttps.Use(listen, tls);
                }

                // Tells pending connections that have sent nothing (which may be closed at max_pending_connections)
                // from those that have (which may not).
                listen.Use(next => new FirstBytesGate(next, kestrel.Limits.KeepAliveTimeout, listen.ApplicationServices.GetRequiredService<TimeProvider>()).OnConnectionAsync);
            });
        });

        var services = builder.Services;
        services.AddSingleton(options.TimeProvider);
        services.AddSingleton<IRandomSource, SharedRandomSource>();
        services.AddSingleton<ReadinessState>();
        services.AddSingleton<DrainSignal>();
        services.AddSidecarTelemetry(builder.Configuration, config.Telemetry);
        services.AddSingleton<TlsRegistry>();
        services.AddHostedService(sp => new CertificateReloader(sp.GetRequiredService<TlsRegistry>(), sp.GetRequiredService<TimeProvider>(), options.CertificateReloadInterval));
        services.TryAddSingleton<IForwarderHttpClientFactory, UpstreamHttpClientFactory>();
        services.AddSingleton<ClusterRetryStateRegistry>();
        services.AddSingleton<CircuitBreakerRegistry>();
        services.AddSidecarLogSummaries(options.LogSummaryInterval);
        services.AddSingleton(sp => new SidecarConfigStore(config, sp.GetRequiredService<ClusterRetryStateRegistry>(), sp.GetRequiredService<CircuitBreakerRegistry>(), sp.GetRequiredService<RetryLog>(), sp.GetRequiredService<SidecarMetrics>(), sp.GetRequiredService<TlsRegistry>()));
        services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<SidecarConfigStore>());
        services.AddSidecarRetries();
        services.AddSingleton<RequestTargetTransform>();
        services.AddSingleton<ServerNameTransform>();
        services.AddSingleton<UpstreamResponseTransform>();
        services.AddSidecarOverload();
        services.AddReverseProxy().AddTransforms<SidecarTransformProvider>();
        ReplaceDataProtection(services);

        if (options.ConfigPath is { } path)
        {
            services.AddHostedService(sp => new ConfigFileWatcher(
                path,
                options.ConfigText,
                options.ReloadInterval,
                options.InPlaceQuietPeriod,
                sp.GetRequiredService<SidecarConfigStore>(),
                sp.GetRequiredService<SidecarMetrics>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ConfigFileWatcher>>()));
        }

        options.ConfigureServices?.Invoke(services);

        var app = builder.Build();
        // Before any endpoint: no CONNECT tunnels, and an over-limit Content-Length is a 413 rather than a 502.
        app.Use(RequestTargetGuard.InvokeAsync);
        // Explicit, so routing sees the path the guard gave an absolute-form target (left implicit, it would run first).
        app.UseRouting();
        app.MapReverseProxy(proxy =>
        {
            // The retry loop sits before load balancing so every attempt picks a destination again and feeds
            // passive health: YARP's load balancing and passive health middleware run once per attempt.
            proxy.UseMiddleware<RequestDispatchMiddleware>();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        app.MapFallback(NoRouteHandler.HandleAsync);
        return app;
    }

    /// <summary>An admin-side server on <paramref name="address"/>: the admin port, or the metrics port with fewer endpoints.</summary>
    private static WebApplication BuildAdmin(string name, string address, SidecarHostOptions options, IServiceProvider shared, Action<IEndpointRouteBuilder> mapEndpoints)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = name, Args = BuilderArgs });
        SidecarLogging.Configure(builder.Logging, builder.Configuration, options.LogLevel, options.JsonLogs, options.ConfigureLogging);
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            ListenAddress.Bind(kestrel, address);
        });
        builder.Services.AddSingleton(shared.GetRequiredService<ReadinessState>());
        builder.Services.AddSingleton(shared.GetRequiredService<SidecarConfigStore>());
        // /metrics reads the proxy's meters: the MeterProvider of its OpenTelemetry SDK holds the Prometheus exporter.
        builder.Services.AddSingleton(shared.GetRequiredService<MeterProvider>());

        var app = builder.Build();
        mapEndpoints(app);
        return app;
    }

    /// <summary>
    /// YARP registers ASP.NET Core Data Protection for its session-affinity cookies, which Sidecar never configures.
    /// Its key ring would be read, or created and written, under $HOME at every start: a warning in the log of every new
    /// pod (no HOME, a read-only filesystem, or DOTNET_RUNNING_IN_CONTAINER), a write on what may be a read-only
    /// filesystem, and OpenSSL loaded for nothing. Its services are removed, and YARP's policies get a provider whose
    /// keys live in memory and are made only if something is ever protected.
    /// </summary>
    private static void ReplaceDataProtection(IServiceCollection services)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var service = services[i];
            if (IsDataProtection(service.ServiceType) || (!service.IsKeyedService && IsDataProtection(service.ImplementationType)))
            {
                services.RemoveAt(i);
            }
        }

        services.AddSingleton<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider, DeferredDataProtectionProvider>();

        static bool IsDataProtection(Type? type) =>
            type?.Namespace?.StartsWith("Microsoft.AspNetCore.DataProtection", StringComparison.Ordinal) == true;
    }

    private static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Sidecar proxy listening on {ProxyAddress}, admin on {AdminAddress} ({ConfigPath}, {RouteCount} routes), metrics on {MetricsAddress}")]
    private partial void LogListening(Uri proxyAddress, Uri adminAddress, string configPath, int routeCount, string metricsAddress);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Limits: max_buffered_bytes {MaxBufferedBytes} ({BufferedOrigin}), max_concurrent_requests {MaxConcurrentRequests} ({ConcurrencyOrigin}), max_pending_connections {MaxPendingConnections} ({PendingOrigin}); memory available {Available} ({MemorySource})")]
    private partial void LogLimits(string maxBufferedBytes, string bufferedOrigin, int maxConcurrentRequests, string concurrencyOrigin, int maxPendingConnections, string pendingOrigin, string available, string memorySource);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "The memory limit leaves the heap {Available}, too little for this build: the derived limits are at their minimum and a burst may still reach the container's limit; give the pod more memory (README: Sizing the pod)")]
    private partial void LogMemoryTooSmall(string available);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Draining: /readyz is unready; connections stop in {DrainDelay}, in-flight requests get {DrainTimeout}")]
    private partial void LogDraining(TimeSpan drainDelay, TimeSpan drainTimeout);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Sidecar stopped")]
    private partial void LogStopped();

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Sidecar could not start")]
    private partial void LogStartFailed(Exception exception);
}
