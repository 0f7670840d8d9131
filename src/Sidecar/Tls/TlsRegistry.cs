using System.Collections.Frozen;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Tls;

/// <summary>
/// The TLS of every cluster and of the proxy listener, with the certificate files each reads. A config (re)load
/// hands its snapshot to <see cref="Apply"/>: a cluster whose <c>tls</c> did not change keeps its entry (and material);
/// a new or changed one gets a new entry, loaded at once. <see cref="ReloadAll"/> (every couple of seconds, by
/// <see cref="CertificateReloader"/>) reads the files again for rotations.
/// </summary>
internal sealed partial class TlsRegistry
{
    private readonly TimeProvider _timeProvider;
    private readonly SidecarMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Lock _reloading = new();
    private FrozenDictionary<string, UpstreamTls> _clusters = FrozenDictionary<string, UpstreamTls>.Empty;

    public TlsRegistry(TimeProvider timeProvider, SidecarMetrics? metrics, ILogger<TlsRegistry> logger)
    {
        _timeProvider = timeProvider;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The proxy listener's TLS, or <c>null</c> when it serves http://. Set by the first <see cref="Apply"/>: listeners do not change on reload.</summary>
    public ListenerTls? Listener { get; private set; }

    /// <summary>The cluster's TLS (defaults when it declares none); <c>null</c> for a cluster not in the config.</summary>
    public UpstreamTls? For(string cluster) => Volatile.Read(ref _clusters).GetValueOrDefault(cluster);

    /// <summary>Takes in a config snapshot's clusters (and, the first time, its listener).</summary>
    public void Apply(SidecarConfig config)
    {
        lock (_reloading)
        {
            var previous = Volatile.Read(ref _clusters);
            var next = new Dictionary<string, UpstreamTls>(config.Clusters.Count, StringComparer.Ordinal);
            foreach (var cluster in config.Clusters.Values)
            {
                if (previous.TryGetValue(cluster.Name, out var existing) && Equals(existing.Options, cluster.Tls ?? new UpstreamTlsOptions()))
                {
                    next[cluster.Name] = existing;
                    continue;
                }

                var tls = new UpstreamTls(cluster.Name, cluster.Tls, _timeProvider);
                if (tls.Options.InsecureSkipVerify)
                {
                    LogInsecure(cluster.Name);
                }

                if (tls.HasFiles)
                {
                    _metrics?.TlsReloaded(MetricTags.Cluster, cluster.Name, loaded: null);
                    Load(tls.Source);
                }

                next[cluster.Name] = tls;
            }

            Volatile.Write(ref _clusters, next.ToFrozenDictionary(StringComparer.Ordinal));
            if (Listener is null && config.Listen.Tls is { } listen)
            {
                Listener = new ListenerTls(listen, _timeProvider);
                _metrics?.TlsReloaded(MetricTags.Listener, ListenerTls.Name, loaded: null);
                Load(Listener.Source);
            }
        }
    }

    /// <summary>Reads every source's files again; a change is loaded and used by new connections.</summary>
    public void ReloadAll()
    {
        lock (_reloading)
        {
            foreach (var tls in Volatile.Read(ref _clusters).Values)
            {
                if (tls.HasFiles)
                {
                    Load(tls.Source);
                }
            }

            if (Listener is { } listener)
            {
                Load(listener.Source);
            }
        }
    }

    private void Load(CertificateSource source)
    {
        var reload = source.Reload();
        var owner = source.Owner;
        switch (reload.Result)
        {
            case CertificateReloadResult.Loaded or CertificateReloadResult.Rotated:
                var material = source.Current;
                if (material.Certificate is { } certificate)
                {
                    _metrics?.TlsCertificateExpiry(owner, source.Name, CertificateKinds.Certificate, CertificateFiles.NotAfter(certificate));
                }

                if (material.AuthoritiesNotAfter is { } caNotAfter)
                {
                    _metrics?.TlsCertificateExpiry(owner, source.Name, CertificateKinds.Ca, caNotAfter);
                }

                if (reload.Result == CertificateReloadResult.Rotated)
                {
                    // Logged before it is counted: whoever sees the count finds the line already written.
                    LogRotated(source.Owner, source.Name, material.Certificate?.Subject ?? "-", material.Certificate is { } c ? CertificateFiles.NotAfter(c) : null);
                    _metrics?.TlsReloaded(owner, source.Name, loaded: true);
                }

                break;
            case CertificateReloadResult.Failed:
                LogReloadFailed(source.Owner, source.Name, reload.Error!);
                _metrics?.TlsReloaded(owner, source.Name, loaded: false);
                break;
        }
    }

    [LoggerMessage(EventId = 800, Level = LogLevel.Warning, Message = "Cluster {Cluster}: tls.insecure_skip_verify is true, so any server certificate is accepted (no protection against an impostor); use it only to debug")]
    private partial void LogInsecure(string cluster);

    [LoggerMessage(EventId = 801, Level = LogLevel.Information, Message = "TLS files of {Owner} {Name} changed: new connections use certificate {Subject} (expires {NotAfter})")]
    private partial void LogRotated(string owner, string name, string subject, DateTimeOffset? notAfter);

    [LoggerMessage(EventId = 802, Level = LogLevel.Warning, Message = "TLS files of {Owner} {Name} changed but do not load, keeping the last good certificates: {Error}")]
    private partial void LogReloadFailed(string owner, string name, string error);
}
