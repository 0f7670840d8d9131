using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>limits</c> and its <c>overload</c> protections; limits absent from the file are derived from the memory budget.</summary>
internal sealed class LimitsBinder
{
    private static readonly string[] LimitsKeys = ["max_buffered_bytes", "max_concurrent_requests", "max_pending_connections", "max_waiting_retries", "drain_timeout", "drain_delay", "overload"];
    private static readonly string[] OverloadKeys = ["enabled", "check_interval", "stop_buffering", "reject_requests", "stop_accepting", "recovery_margin"];

    private readonly ConfigReader _reader;
    private readonly MemoryBudget _memory;

    public LimitsBinder(ConfigReader reader, MemoryBudget memory)
    {
        _reader = reader;
        _memory = memory;
    }

    public LimitsOptions DerivedLimits() => new()
    {
        MaxBufferedBytes = _memory.MaxBufferedBytes,
        MaxConcurrentRequests = _memory.MaxConcurrentRequests,
        MaxPendingConnections = _memory.MaxPendingConnections,
        Memory = _memory,
    };

    public LimitsOptions BindLimits(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, LimitsKeys);
        if (map is null)
        {
            return DerivedLimits();
        }

        return new LimitsOptions
        {
            MaxBufferedBytes = _reader.Size(map, "max_buffered_bytes", _memory.MaxBufferedBytes),
            MaxConcurrentRequests = _reader.Int(map, "max_concurrent_requests", _memory.MaxConcurrentRequests, min: 1),
            MaxPendingConnections = _reader.Int(map, "max_pending_connections", _memory.MaxPendingConnections, min: 1),
            MaxWaitingRetries = _reader.Int(map, "max_waiting_retries", ConfigDefaults.MaxWaitingRetries, min: 0),
            DrainTimeout = _reader.Duration(map, "drain_timeout", ConfigDefaults.DrainTimeout, ConfigReader.MaxDuration, allowZero: true),
            DrainDelay = _reader.Duration(map, "drain_delay", ConfigDefaults.DrainDelay, ConfigReader.MaxDuration, allowZero: true),
            Overload = _reader.ReadChild(map, "overload", OverloadKeys, BindOverload) ?? new OverloadOptions(),
            Memory = _memory,
            MaxBufferedBytesConfigured = map.TryGet("max_buffered_bytes", out _),
            MaxConcurrentRequestsConfigured = map.TryGet("max_concurrent_requests", out _),
            MaxPendingConnectionsConfigured = map.TryGet("max_pending_connections", out _),
        };
    }

    private OverloadOptions BindOverload(ConfigMapping map)
    {
        var defaults = new OverloadOptions();
        var stopBuffering = _reader.Double(map, "stop_buffering", defaults.StopBuffering, 0, 1, minExclusive: true);
        var rejectRequests = _reader.Double(map, "reject_requests", defaults.RejectRequests, 0, 1, minExclusive: true);
        var stopAccepting = _reader.Double(map, "stop_accepting", defaults.StopAccepting, 0, 1, minExclusive: true);
        var margin = _reader.Double(map, "recovery_margin", defaults.RecoveryMargin, 0, 1);
        // Each protection adds to the one before: buffering stops first, connections last.
        if (rejectRequests < stopBuffering)
        {
            OrderError(map, "reject_requests", $"reject_requests ({Invariant(rejectRequests)}) must be at least stop_buffering ({Invariant(stopBuffering)})");
        }

        if (stopAccepting < rejectRequests)
        {
            OrderError(map, "stop_accepting", $"stop_accepting ({Invariant(stopAccepting)}) must be at least reject_requests ({Invariant(rejectRequests)})");
        }

        if (margin >= stopBuffering)
        {
            OrderError(map, "recovery_margin", $"recovery_margin ({Invariant(margin)}) must be below stop_buffering ({Invariant(stopBuffering)}), or protections would never turn off");
        }

        return new OverloadOptions
        {
            Enabled = _reader.Bool(map, "enabled", defaults.Enabled),
            CheckInterval = _reader.Duration(map, "check_interval", defaults.CheckInterval, TimeSpan.FromSeconds(10)),
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
