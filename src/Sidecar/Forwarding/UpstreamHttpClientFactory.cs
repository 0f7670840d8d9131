using System.Diagnostics.Metrics;
using Sidecar.Routing;
using Sidecar.Tls;
using Yarp.ReverseProxy.Forwarder;

namespace Sidecar.Forwarding;

/// <summary>
/// YARP's client factory, with two telemetry changes, one for memory and the cluster's TLS to each cluster's <see cref="SocketsHttpHandler"/>:
/// <list type="bullet">
/// <item>No <see cref="SocketsHttpHandler.ActivityHeadersPropagator"/>. With one, the handler starts its own
/// <c>System.Net.Http</c> span under Sidecar's attempt span, never exported, and sends that span's id upstream: the
/// upstream's spans would hang off a parent no tracing backend has. Sidecar's trace context transform sends the attempt
/// span's context instead (<c>Telemetry/TraceContextTransform</c>); with tracing off, the caller's <c>traceparent</c> passes through as the caller sent it.</item>
/// <item>The host's <see cref="IMeterFactory"/>, so the client's <c>System.Net.Http</c> meter belongs to this host like
/// Kestrel's (see <c>Telemetry/TelemetryServiceCollectionExtensions.DotnetMeters</c>).</item>
/// <item>Pooled connections close after <see cref="PooledConnectionIdleTimeout"/> idle instead of .NET's one minute. Each
/// idle connection holds about 8 KiB of heap; after a burst of 1,000 concurrent requests they held 8 MiB for over a
/// minute, so memory did not come back within the minute that matters to a pod (see <c>Overload/HeapTrimmer</c>). A
/// sidecar beside a busy application reuses its connections within milliseconds, so this costs no reuse under load.</item>
/// <item>The cluster's TLS (<see cref="UpstreamTls"/>): trust, server name, client certificate and versions, through
/// callbacks that read the current certificate files, so a rotation needs no new client. A cluster whose <c>tls</c>
/// changed on reload gets a new client (<see cref="CanReuseOldClient"/>). With a client certificate, the cluster's
/// handler is a <see cref="ClientCertificateHandler"/>, which sends the certificate's intermediates and makes a new
/// <see cref="SocketsHttpHandler"/> for each generation of its files.</item>
/// </list>
/// </summary>
internal sealed class UpstreamHttpClientFactory : ForwarderHttpClientFactory
{
    public static readonly TimeSpan PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15);

    private readonly IMeterFactory _meterFactory;
    private readonly TlsRegistry _tls;

    public UpstreamHttpClientFactory(IMeterFactory meterFactory, TlsRegistry tls, ILogger<ForwarderHttpClientFactory> logger)
        : base(logger)
    {
        _meterFactory = meterFactory;
        _tls = tls;
    }

    protected override bool CanReuseOldClient(ForwarderHttpClientContext context) =>
        base.CanReuseOldClient(context)
        && string.Equals(context.OldMetadata?.GetValueOrDefault(YarpConfigMapper.TlsMetadataKey), context.NewMetadata?.GetValueOrDefault(YarpConfigMapper.TlsMetadataKey), StringComparison.Ordinal);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ActivityHeadersPropagator = null;
        handler.MeterFactory = _meterFactory;
        handler.PooledConnectionIdleTimeout = PooledConnectionIdleTimeout;
        _tls.For(context.ClusterId)?.Configure(handler.SslOptions);
    }

    protected override HttpMessageHandler WrapHandler(ForwarderHttpClientContext context, HttpMessageHandler handler)
    {
        var wrapped = base.WrapHandler(context, handler);
        if (_tls.For(context.ClusterId) is not { Options.CertFile: not null } tls || wrapped is not SocketsHttpHandler first)
        {
            return wrapped;
        }

        return new ClientCertificateHandler(tls.Source, first, () =>
        {
            var next = NewHandler();
            ConfigureHandler(context, next);
            return next;
        });
    }

    /// <summary>A handler as YARP's <see cref="ForwarderHttpClientFactory.CreateClient"/> makes one before <see cref="ConfigureHandler"/> (YARP 2.3).</summary>
    private static SocketsHttpHandler NewHandler() => new()
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };
}
