using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>limits</c> and its <c>overload</c> protections; limits absent from the file are derived from the memory budget.</summary>
internal sealed class LimitsBinder
{
    private static readonly TimeSpan MinRequestHeaderTimeout = TimeSpan.FromSeconds(1);

    private readonly ConfigReader _reader;
    private readonly MemoryBudget _memory;

    public LimitsBinder(ConfigReader reader, MemoryBudget memory)
    {
        _reader = reader;
        _memory = memory;
    }

    /// <summary>The limits of a file without <c>limits</c>: every memory-bound value derived from the memory budget.</summary>
    public LimitsOptions Derived() => new()
    {
        MaxBufferedBytes = _memory.MaxBufferedBytes,
        MaxConcurrentRequests = _memory.MaxConcurrentRequests,
        MaxPendingConnections = _memory.MaxPendingConnections,
        Memory = _memory,
    };

    /// <summary>Binds <c>limits</c> at <paramref name="path"/>; each key absent from it keeps its derived or default value.</summary>
    public LimitsOptions Bind(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, LimitsKeys.All);
        if (map is null)
        {
            return Derived();
        }

        return new LimitsOptions
        {
            MaxBufferedBytes = _reader.Size(map, LimitsKeys.MaxBufferedBytes, _memory.MaxBufferedBytes),
            MaxConcurrentRequests = _reader.Int(map, LimitsKeys.MaxConcurrentRequests, _memory.MaxConcurrentRequests, min: 1),
            MaxPendingConnections = _reader.Int(map, LimitsKeys.MaxPendingConnections, _memory.MaxPendingConnections, min: 1),
            MaxQueueWait = _reader.Duration(map, LimitsKeys.MaxQueueWait, ConfigDefaults.MaxQueueWait, ConfigReader.MaxDuration, allowZero: true),
            MaxWaitingRetries = _reader.Int(map, LimitsKeys.MaxWaitingRetries, ConfigDefaults.MaxWaitingRetries, min: 0),
            IdleConnectionTimeout = _reader.Duration(map, LimitsKeys.IdleConnectionTimeout, ConfigDefaults.IdleConnectionTimeout, ConfigReader.MaxDuration),
            RequestHeaderTimeout = RequestHeaderTimeout(map),
            MinRequestBodyRate = _reader.Size(map, LimitsKeys.MinRequestBodyRate, ConfigDefaults.MinRequestBodyRate),
            DrainTimeout = _reader.Duration(map, LimitsKeys.DrainTimeout, ConfigDefaults.DrainTimeout, ConfigReader.MaxDuration, allowZero: true),
            DrainDelay = _reader.Duration(map, LimitsKeys.DrainDelay, ConfigDefaults.DrainDelay, ConfigReader.MaxDuration, allowZero: true),
            Overload = _reader.ReadChild(map, LimitsKeys.Overload, LimitsKeys.OverloadKeys.All, BindOverload) ?? new OverloadOptions(),
            Memory = _memory,
            MaxBufferedBytesConfigured = map.TryGet(LimitsKeys.MaxBufferedBytes, out _),
            MaxConcurrentRequestsConfigured = map.TryGet(LimitsKeys.MaxConcurrentRequests, out _),
            MaxPendingConnectionsConfigured = map.TryGet(LimitsKeys.MaxPendingConnections, out _),
        };
    }

    /// <summary>
    /// Kestrel checks its timeouts once a second, and a body's grace before <c>min_request_body_rate</c> applies
    /// (this same timeout) must be longer than that.
    /// </summary>
    private TimeSpan RequestHeaderTimeout(ConfigMapping map)
    {
        var timeout = _reader.Duration(map, LimitsKeys.RequestHeaderTimeout, ConfigDefaults.RequestHeaderTimeout, ConfigReader.MaxDuration);
        if (timeout <= MinRequestHeaderTimeout && map.TryGet(LimitsKeys.RequestHeaderTimeout, out var node))
        {
            _reader.Error(node, map.PathOf(LimitsKeys.RequestHeaderTimeout), "must be more than 1s: Kestrel checks its timeouts once a second");
            return ConfigDefaults.RequestHeaderTimeout;
        }

        return timeout;
    }

    private OverloadOptions BindOverload(ConfigMapping map)
    {
        var defaults = new OverloadOptions();
        var stopBuffering = _reader.Double(map, LimitsKeys.OverloadKeys.StopBuffering, defaults.StopBuffering, 0, 1, minExclusive: true);
        var rejectRequests = _reader.Double(map, LimitsKeys.OverloadKeys.RejectRequests, defaults.RejectRequests, 0, 1, minExclusive: true);
        var stopAccepting = _reader.Double(map, LimitsKeys.OverloadKeys.StopAccepting, defaults.StopAccepting, 0, 1, minExclusive: true);
        var margin = _reader.Double(map, LimitsKeys.OverloadKeys.RecoveryMargin, defaults.RecoveryMargin, 0, 1);
        // Each protection adds to the one before: buffering stops first, connections last.
        if (rejectRequests < stopBuffering)
        {
            OrderError(map, LimitsKeys.OverloadKeys.RejectRequests, $"reject_requests ({Invariant(rejectRequests)}) must be at least stop_buffering ({Invariant(stopBuffering)})");
        }

        if (stopAccepting < rejectRequests)
        {
            OrderError(map, LimitsKeys.OverloadKeys.StopAccepting, $"stop_accepting ({Invariant(stopAccepting)}) must be at least reject_requests ({Invariant(rejectRequests)})");
        }

        if (margin >= stopBuffering)
        {
            OrderError(map, LimitsKeys.OverloadKeys.RecoveryMargin, $"recovery_margin ({Invariant(margin)}) must be below stop_buffering ({Invariant(stopBuffering)}), or protections would never turn off");
        }

        return new OverloadOptions
        {
            Enabled = _reader.Bool(map, LimitsKeys.OverloadKeys.Enabled, defaults.Enabled),
            CheckInterval = _reader.Duration(map, LimitsKeys.OverloadKeys.CheckInterval, defaults.CheckInterval, TimeSpan.FromSeconds(10)),
            StopBuffering = stopBuffering,
            RejectRequests = rejectRequests,
            StopAccepting = stopAccepting,
            RecoveryMargin = margin,
        };
    }

    private void OrderError(ConfigMapping map, string key, string message)
    {
        // Either side may be the default; point at the key when the user wrote it, else at the mapping.
        var at = map.TryGet(key, out var node) ? node : map.Node;
        _reader.Error(at, map.PathOf(key), message);
    }

    private static string Invariant(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
