using System.Collections.Frozen;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Binds the YAML representation model of <c>sidecar.yaml</c> into a <see cref="SidecarConfig"/> and validates it,
/// recording every problem through a <see cref="ConfigReader"/>. Binding goes on after an error so that one run
/// reports all of them; the caller discards the snapshot when any error was recorded.
/// </summary>
/// <remarks>
/// Flow of <see cref="Bind"/>:
/// 1. check the root keys;
/// 2. bind <c>limits</c>, <c>listen</c> and <c>telemetry</c>;
/// 3. bind each cluster and policy (each checks its own values, e.g. <c>backoff.max</c> ≥ <c>backoff.base</c>);
/// 4. bind the routes and check their cluster and policy names against the declared ones;
/// 5. cross-check values that span sections (<c>buffer_limit</c> ≤ <c>limits.max_buffered_bytes</c>).
/// </remarks>
internal sealed partial class SidecarConfigBinder
{
    /// <summary>
    /// Every configured duration is at most a day: timers (<c>CancelAfter</c>, <c>Task.Delay</c>) reject more than
    /// ~49 days, and nothing a retry proxy waits for sensibly takes longer than a day.
    /// </summary>
    private static readonly TimeSpan MaxDuration = TimeSpan.FromHours(24);

    private static readonly string[] RootKeys = ["listen", "clusters", "policies", "routes", "limits", "telemetry"];
    private static readonly string[] ListenKeys = ["proxy", "admin", "proxy_protocol"];
    private static readonly string[] ClusterKeys = ["destinations", "load_balancing", "protocol", "health", "circuit_breaker"];
    private static readonly string[] HealthKeys = ["passive", "reactivation_period", "active"];
    private static readonly string[] ActiveHealthKeys = ["interval", "timeout", "path"];
    private static readonly string[] CircuitBreakerKeys = ["failure_ratio", "minimum_requests", "window", "break_duration"];
    private static readonly string[] LimitsKeys = ["max_buffered_bytes", "max_concurrent_requests", "max_pending_connections", "max_waiting_retries", "drain_timeout", "drain_delay", "overload"];
    private static readonly string[] OverloadKeys = ["enabled", "check_interval", "stop_buffering", "reject_requests", "stop_accepting", "recovery_margin"];
    private static readonly string[] TelemetryKeys = ["dotnet_metrics"];

    private static readonly string[] PolicyKeys =
    [
        "max_attempts", "backoff", "retry_on", "methods", "per_try_timeout", "timeout", "retry_after", "buffer_limit",
        "budget", "max_concurrent_retries", "allow_overrides", "retry_until", "hedge",
    ];

    private static readonly string[] BackoffKeys = ["algorithm", "base", "max", "multiplier", "jitter", "jitter_factor"];
    private static readonly string[] RetryOnKeys = ["status", "errors", "headers"];
    private static readonly string[] ResponseHeaderKeys = ["name", "values"];
    private static readonly string[] RetryAfterKeys = ["honor", "max"];
    private static readonly string[] BudgetKeys = ["enabled", "ratio", "min_per_second", "window"];
    private static readonly string[] ConditionKeys = ["status", "header", "json"];
    private static readonly string[] JsonConditionKeys = ["path", "equals"];
    private static readonly string[] HedgeKeys = ["delay", "max_extra"];
    private static readonly string[] RouteKeys = ["name", "match", "cluster", "policy"];
    private static readonly string[] MatchKeys = ["path", "methods", "hosts", "headers"];
    private static readonly string[] HeaderMatchKeys = ["name", "values", "mode"];

    /// <summary>RFC 9110 §9 methods plus PATCH (RFC 5789); anything else is far more likely a typo than an extension method.</summary>
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

    private const string IdempotentKeyword = "idempotent";

    private readonly ConfigReader _reader;
    private readonly MemoryBudget _memory;

    /// <param name="reader">Where values are read from and errors recorded.</param>
    /// <param name="memory">The memory that limits absent from the file are derived from.</param>
    public SidecarConfigBinder(ConfigReader reader, MemoryBudget memory)
    {
        _reader = reader;
        _memory = memory;
    }

    /// <summary>Binds <paramref name="root"/> (<c>null</c> for an empty file); the result is only meaningful when no error was recorded.</summary>
    public SidecarConfig? Bind(YamlNode? root, string sourcePath)
    {
        if (root is null)
        {
            var start = new Mark(0, 1, 1);
            _reader.Error(start, "clusters", "missing required key 'clusters' (the file is empty)");
            _reader.Error(start, "routes", "missing required key 'routes' (the file is empty)");
            return null;
        }

        var map = _reader.ReadMapping(root, string.Empty, RootKeys);
        if (map is null)
        {
            return null;
        }

        var limits = map.TryGet("limits", out var limitsNode) ? BindLimits(limitsNode, map.PathOf("limits")) : DerivedLimits();
        var listen = map.TryGet("listen", out var listenNode) ? BindListen(listenNode, map.PathOf("listen")) : new ListenOptions();
        var telemetry = map.TryGet("telemetry", out var telemetryNode) ? BindTelemetry(telemetryNode, map.PathOf("telemetry")) : new TelemetryOptions();

        var clusters = new OrderedDictionary<string, ClusterOptions>(StringComparer.Ordinal);
        var clusterNames = new List<string>();
        if (_reader.Require(map, "clusters") && map.TryGet("clusters", out var clustersNode))
        {
            var entries = _reader.ReadNamedMapping(clustersNode, "clusters", "cluster");
            if (entries is { Count: 0 })
            {
                _reader.Error(clustersNode, "clusters", "at least one cluster is required");
            }

            foreach (var (key, value) in entries ?? [])
            {
                clusterNames.Add(key.Value!);
                if (BindCluster(key.Value!, value) is { } cluster)
                {
                    clusters.Add(cluster.Name, cluster);
                }
            }
        }

        var policies = new OrderedDictionary<string, RetryPolicyOptions>(StringComparer.Ordinal);
        var policyNames = new List<string>();
        if (map.TryGet("policies", out var policiesNode))
        {
            foreach (var (key, value) in _reader.ReadNamedMapping(policiesNode, "policies", "policy") ?? [])
            {
                policyNames.Add(key.Value!);
                if (BindPolicy(key, value, limits) is { } policy)
                {
                    policies.Add(policy.Name, policy);
                }
            }
        }

        var routes = new List<RouteOptions>();
        if (_reader.Require(map, "routes") && map.TryGet("routes", out var routesNode))
        {
            var items = _reader.ReadSequence(routesNode, "routes");
            if (items is { Count: 0 })
            {
                _reader.Error(routesNode, "routes", "at least one route is required");
            }

            var firstLines = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (node, path) in items ?? [])
            {
                if (BindRoute(node, path, clusterNames, policyNames, firstLines) is { } route)
                {
                    routes.Add(route);
                }
            }
        }

        return new SidecarConfig
        {
            SourcePath = sourcePath,
            Listen = listen,
            Clusters = clusters,
            Policies = policies,
            Routes = routes,
            Limits = limits,
            Telemetry = telemetry,
        };
    }

    private ListenOptions BindListen(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, ListenKeys);
        if (map is null)
        {
            return new ListenOptions();
        }

        var proxy = ListenAddress(map, "proxy", ConfigDefaults.ProxyAddress);
        var admin = ListenAddress(map, "admin", ConfigDefaults.AdminAddress);
        // Port 0 asks the OS for a free port, so two port-0 addresses never collide.
        if (string.Equals(proxy, admin, StringComparison.OrdinalIgnoreCase) && !proxy.EndsWith(":0", StringComparison.Ordinal))
        {
            _reader.Error(map.Node, map.PathOf("admin"), $"the admin address must differ from the proxy address '{proxy}'");
        }

        var proxyProtocol = _reader.Optional(
            map,
            "proxy_protocol",
            ProxyProtocol.Http1,
            (YamlNode n, string p, out ProxyProtocol v) => _reader.TryReadEnum(n, p, "proxy protocol", ConfigSpellings.ProxyProtocols, out v));

        return new ListenOptions { Proxy = proxy, Admin = admin, ProxyProtocol = proxyProtocol };
    }

    private string ListenAddress(ConfigMapping map, string key, string fallback)
    {
        if (_reader.String(map, key) is not { } address)
        {
            return fallback;
        }

        if (UrlRules.ListenAddressError(address) is { } error)
        {
            map.TryGet(key, out var node);
            _reader.Error(node!, map.PathOf(key), error);
            return fallback;
        }

        return address;
    }

    private LimitsOptions DerivedLimits() => new()
    {
        MaxBufferedBytes = _memory.MaxBufferedBytes,
        MaxConcurrentRequests = _memory.MaxConcurrentRequests,
        MaxPendingConnections = _memory.MaxPendingConnections,
        Memory = _memory,
    };

    private LimitsOptions BindLimits(YamlNode node, string path)
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
            DrainTimeout = _reader.Duration(map, "drain_timeout", ConfigDefaults.DrainTimeout, MaxDuration, allowZero: true),
            DrainDelay = _reader.Duration(map, "drain_delay", ConfigDefaults.DrainDelay, MaxDuration, allowZero: true),
            Overload = BindChild(map, "overload", OverloadKeys, BindOverload) ?? new OverloadOptions(),
            Memory = _memory,
            MaxBufferedBytesConfigured = map.TryGet("max_buffered_bytes", out _),
            MaxConcurrentRequestsConfigured = map.TryGet("max_concurrent_requests", out _),
            MaxPendingConnectionsConfigured = map.TryGet("max_pending_connections", out _),
        };
    }

    private TelemetryOptions BindTelemetry(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, TelemetryKeys);
        if (map is null)
        {
            return new TelemetryOptions();
        }

        return new TelemetryOptions { DotnetMetrics = _reader.Bool(map, "dotnet_metrics", ConfigDefaults.DotnetMetrics) };
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

    private ClusterOptions? BindCluster(string name, YamlNode node)
    {
        var map = _reader.ReadMapping(node, ConfigReader.Child("clusters", name), ClusterKeys);
        if (map is null)
        {
            return null;
        }

        var destinations = new List<string>();
        if (_reader.Require(map, "destinations") && map.TryGet("destinations", out var destinationsNode))
        {
            var items = _reader.ReadSequence(destinationsNode, map.PathOf("destinations"));
            if (items is { Count: 0 })
            {
                _reader.Error(destinationsNode, map.PathOf("destinations"), "at least one destination is required");
            }

            foreach (var (item, itemPath) in items ?? [])
            {
                if (!_reader.TryReadString(item, itemPath, out var url))
                {
                    continue;
                }

                if (UrlRules.DestinationError(url) is { } error)
                {
                    _reader.Error(item, itemPath, error);
                }
                else if (destinations.Contains(url, StringComparer.OrdinalIgnoreCase))
                {
                    _reader.Error(item, itemPath, $"duplicate destination '{UrlRedaction.Redact(url)}'");
                }
                else
                {
                    destinations.Add(url);
                }
            }
        }

        var loadBalancing = _reader.Optional(
            map,
            "load_balancing",
            ConfigDefaults.LoadBalancing,
            (YamlNode n, string p, out string v) => _reader.TryReadEnum(n, p, "load-balancing policy", ConfigSpellings.LoadBalancingPolicies, out v));

        var protocol = _reader.Optional(
            map,
            "protocol",
            UpstreamProtocol.Auto,
            (YamlNode n, string p, out UpstreamProtocol v) => _reader.TryReadEnum(n, p, "protocol", ConfigSpellings.Protocols, out v));

        var health = new HealthOptions();
        if (map.TryGet("health", out var healthNode) && _reader.ReadMapping(healthNode, map.PathOf("health"), HealthKeys) is { } healthMap)
        {
            health = BindHealth(healthMap);
        }

        CircuitBreakerOptions? breaker = null;
        if (map.TryGet("circuit_breaker", out var breakerNode)
            && _reader.ReadMapping(breakerNode, map.PathOf("circuit_breaker"), CircuitBreakerKeys) is { } breakerMap)
        {
            var defaults = new CircuitBreakerOptions();
            breaker = new CircuitBreakerOptions
            {
                FailureRatio = _reader.Double(breakerMap, "failure_ratio", defaults.FailureRatio, 0, 1, minExclusive: true),
                MinimumRequests = _reader.Int(breakerMap, "minimum_requests", defaults.MinimumRequests, min: 1),
                Window = _reader.Duration(breakerMap, "window", defaults.Window, MaxDuration),
                BreakDuration = _reader.Duration(breakerMap, "break_duration", defaults.BreakDuration, MaxDuration),
            };
        }

        return new ClusterOptions
        {
            Name = name,
            Destinations = destinations,
            LoadBalancing = loadBalancing,
            Protocol = protocol,
            Health = health,
            CircuitBreaker = breaker,
        };
    }

    private HealthOptions BindHealth(ConfigMapping map)
    {
        var defaults = new HealthOptions();
        ActiveHealthOptions? active = null;
        if (map.TryGet("active", out var activeNode) && _reader.ReadMapping(activeNode, map.PathOf("active"), ActiveHealthKeys) is { } activeMap)
        {
            var activeDefaults = new ActiveHealthOptions();
            var probePath = _reader.String(activeMap, "path") ?? activeDefaults.Path;
            if (!probePath.StartsWith('/'))
            {
                activeMap.TryGet("path", out var pathNode);
                _reader.Error(pathNode!, activeMap.PathOf("path"), $"must start with '/', got '{probePath}'");
            }

            active = new ActiveHealthOptions
            {
                Interval = _reader.Duration(activeMap, "interval", activeDefaults.Interval, MaxDuration),
                Timeout = _reader.Duration(activeMap, "timeout", activeDefaults.Timeout, MaxDuration),
                Path = probePath,
            };
        }

        return new HealthOptions
        {
            Passive = _reader.Bool(map, "passive", defaults.Passive),
            ReactivationPeriod = _reader.Duration(map, "reactivation_period", defaults.ReactivationPeriod, MaxDuration),
            Active = active,
        };
    }

    private RetryPolicyOptions? BindPolicy(YamlScalarNode key, YamlNode node, LimitsOptions limits)
    {
        var name = key.Value!;
        var map = _reader.ReadMapping(node, ConfigReader.Child("policies", name), PolicyKeys);
        if (map is null)
        {
            return null;
        }

        var perTryTimeout = _reader.OptionalDuration(map, "per_try_timeout", MaxDuration);
        var timeout = _reader.OptionalDuration(map, "timeout", MaxDuration);
        if (perTryTimeout > timeout && map.TryGet("per_try_timeout", out var perTryNode))
        {
            _reader.Error(
                perTryNode,
                map.PathOf("per_try_timeout"),
                $"per_try_timeout ({DurationParser.Format(perTryTimeout.Value)}) must not exceed timeout ({DurationParser.Format(timeout!.Value)})");
        }

        var bufferLimit = _reader.Size(map, "buffer_limit", ConfigDefaults.BufferLimit);
        if (bufferLimit > limits.MaxBufferedBytes && map.TryGet("buffer_limit", out var bufferNode))
        {
            _reader.Error(
                bufferNode,
                map.PathOf("buffer_limit"),
                $"buffer_limit ({SizeParser.Format(bufferLimit)}) must not exceed limits.max_buffered_bytes ({SizeParser.Format(limits.MaxBufferedBytes)}, {limits.Origin(limits.MaxBufferedBytesConfigured)})");
        }

        return new RetryPolicyOptions
        {
            Name = name,
            Line = (int)key.Start.Line,
            MaxAttempts = _reader.Int(map, "max_attempts", ConfigDefaults.MaxAttempts, min: 1),
            Backoff = BindChild(map, "backoff", BackoffKeys, BindBackoff) ?? new BackoffOptions(),
            RetryOn = BindChild(map, "retry_on", RetryOnKeys, BindRetryOn) ?? new RetryOnOptions(),
            Methods = map.TryGet("methods", out var methodsNode)
                ? BindPolicyMethods(methodsNode, map.PathOf("methods")) ?? ConfigDefaults.IdempotentMethods
                : ConfigDefaults.IdempotentMethods,
            PerTryTimeout = perTryTimeout,
            Timeout = timeout,
            RetryAfter = BindChild(map, "retry_after", RetryAfterKeys, BindRetryAfter) ?? new RetryAfterOptions(),
            BufferLimit = bufferLimit,
            Budget = map.TryGet("budget", out var budgetNode) ? BindBudget(budgetNode, map.PathOf("budget")) : new BudgetOptions(),
            MaxConcurrentRetries = _reader.Int(map, "max_concurrent_retries", ConfigDefaults.MaxConcurrentRetries, min: 1),
            AllowOverrides = _reader.Bool(map, "allow_overrides", fallback: false),
            RetryUntil = map.TryGet("retry_until", out var untilNode) ? BindRetryUntil(untilNode, map.PathOf("retry_until")) : [],
            Hedge = BindChild(map, "hedge", HedgeKeys, BindHedge),
        };
    }

    private T? BindChild<T>(ConfigMapping parent, string key, string[] allowedKeys, Func<ConfigMapping, T?> bind)
        where T : class =>
        parent.TryGet(key, out var node) && _reader.ReadMapping(node, parent.PathOf(key), allowedKeys) is { } map ? bind(map) : null;

    private BackoffOptions BindBackoff(ConfigMapping map)
    {
        var defaults = new BackoffOptions();
        var baseDelay = _reader.Duration(map, "base", defaults.Base, MaxDuration, allowZero: true);
        var maxDelay = _reader.Duration(map, "max", defaults.Max, MaxDuration, allowZero: true);
        if (maxDelay < baseDelay)
        {
            // Either side may be the default; point at whichever the user wrote.
            var at = map.TryGet("max", out var maxNode) ? maxNode : map.TryGet("base", out var baseNode) ? baseNode : map.Node;
            var atKey = map.TryGet("max", out _) ? "max" : "base";
            _reader.Error(
                at,
                map.PathOf(atKey),
                $"backoff.max ({DurationParser.Format(maxDelay)}) must be at least backoff.base ({DurationParser.Format(baseDelay)})");
        }

        return new BackoffOptions
        {
            Algorithm = _reader.Optional(map, "algorithm", defaults.Algorithm, (YamlNode n, string p, out BackoffAlgorithm v) => _reader.TryReadEnum(n, p, "algorithm", ConfigSpellings.Algorithms, out v)),
            Base = baseDelay,
            Max = maxDelay,
            Multiplier = _reader.Double(map, "multiplier", defaults.Multiplier, 1, double.PositiveInfinity),
            Jitter = _reader.Optional(map, "jitter", defaults.Jitter, (YamlNode n, string p, out JitterMode v) => _reader.TryReadEnum(n, p, "jitter", ConfigSpellings.JitterModes, out v)),
            JitterFactor = _reader.Double(map, "jitter_factor", defaults.JitterFactor, 0, 1),
        };
    }

    private RetryOnOptions BindRetryOn(ConfigMapping map)
    {
        var defaults = new RetryOnOptions();
        var errors = defaults.Errors;
        if (map.TryGet("errors", out var errorsNode) && _reader.ReadSequence(errorsNode, map.PathOf("errors")) is { } items)
        {
            errors = RetryableErrors.None;
            foreach (var (item, path) in items)
            {
                if (_reader.TryReadEnum(item, path, "error", ConfigSpellings.ErrorNames, out var error))
                {
                    if ((errors & error) != 0)
                    {
                        _reader.Error(item, path, $"duplicate error '{((YamlScalarNode)item).Value}'");
                    }

                    errors |= error;
                }
            }
        }

        return new RetryOnOptions
        {
            Status = map.TryGet("status", out var statusNode) ? BindStatusList(statusNode, map.PathOf("status")) : defaults.Status,
            Errors = errors,
            Headers = map.TryGet("headers", out var headersNode)
                ? BindList(headersNode, map.PathOf("headers"), BindResponseHeader)
                : defaults.Headers,
        };
    }

    private IReadOnlyList<StatusMatcher> BindStatusList(YamlNode node, string path)
    {
        var result = new List<StatusMatcher>();
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (!_reader.TryReadString(item, itemPath, out var text))
            {
                continue;
            }

            if (StatusParser.TryParse(text, out var matcher))
            {
                if (result.Contains(matcher))
                {
                    _reader.Error(item, itemPath, $"duplicate status '{text}'");
                }

                result.Add(matcher);
            }
            else
            {
                _reader.Error(item, itemPath, $"invalid status '{text}': use a code from 100 to 599 or a class such as '5xx'");
            }
        }

        return result;
    }

    private ResponseHeaderMatcher? BindResponseHeader(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, ResponseHeaderKeys);
        if (map is null)
        {
            return null;
        }

        var name = RequiredHeaderName(map);
        var values = map.TryGet("values", out var valuesNode) ? BindStringList(valuesNode, map.PathOf("values")) : [];
        return name is null ? null : new ResponseHeaderMatcher { Name = name, Values = values };
    }

    private FrozenSet<string>? BindPolicyMethods(YamlNode node, string path)
    {
        if (node is YamlScalarNode { Value: IdempotentKeyword })
        {
            return ConfigDefaults.IdempotentMethods;
        }

        if (node is not YamlSequenceNode)
        {
            _reader.Error(node, path, $"expected 'idempotent' or a list of methods, got {ConfigReader.Describe(node)}");
            return null;
        }

        var methods = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (item is YamlScalarNode { Value: IdempotentKeyword })
            {
                methods.UnionWith(ConfigDefaults.IdempotentMethods);
                continue;
            }

            if (ReadMethod(item, itemPath) is { } method && !methods.Add(method))
            {
                _reader.Error(item, itemPath, $"duplicate method '{method}'");
            }
        }

        return methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    private string? ReadMethod(YamlNode node, string path)
    {
        if (!_reader.TryReadString(node, path, out var text))
        {
            return null;
        }

        var upper = text.ToUpperInvariant();
        if (!KnownMethods.Contains(upper, StringComparer.Ordinal))
        {
            _reader.Error(node, path, ConfigReader.UnknownMessage("method", text, KnownMethods, "allowed"));
            return null;
        }

        return upper;
    }

    private RetryAfterOptions BindRetryAfter(ConfigMapping map)
    {
        var defaults = new RetryAfterOptions();
        return new RetryAfterOptions
        {
            Honor = _reader.Bool(map, "honor", defaults.Honor),
            Max = _reader.Duration(map, "max", defaults.Max, MaxDuration),
        };
    }

    private BudgetOptions BindBudget(YamlNode node, string path)
    {
        // "budget: off" reads better than "budget: { enabled: false }" for the one thing most people change.
        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "off" or "false" })
        {
            return new BudgetOptions { Enabled = false };
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "on" or "true" })
        {
            return new BudgetOptions();
        }

        if (node is YamlScalarNode && !ConfigReader.IsNull(node))
        {
            _reader.Error(node, path, $"expected a mapping or 'off', got {ConfigReader.Describe(node)}");
            return new BudgetOptions();
        }

        var map = _reader.ReadMapping(node, path, BudgetKeys);
        if (map is null)
        {
            return new BudgetOptions();
        }

        var defaults = new BudgetOptions();
        return new BudgetOptions
        {
            Enabled = _reader.Bool(map, "enabled", defaults.Enabled),
            Ratio = _reader.Double(map, "ratio", defaults.Ratio, 0, 1),
            MinPerSecond = _reader.Int(map, "min_per_second", defaults.MinPerSecond, min: 0),
            Window = _reader.Duration(map, "window", defaults.Window, MaxDuration),
        };
    }

    private IReadOnlyList<ResponseCondition> BindRetryUntil(YamlNode node, string path) => BindList(node, path, BindCondition);

    private ResponseCondition? BindCondition(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, ConditionKeys);
        if (map is null)
        {
            return null;
        }

        if (map.Entries.Count == 0)
        {
            _reader.Error(map.Node, path, "a condition needs at least one of: status, header, json");
            return null;
        }

        string? jsonPath = null;
        string? jsonEquals = null;
        if (map.TryGet("json", out var jsonNode) && _reader.ReadMapping(jsonNode, map.PathOf("json"), JsonConditionKeys) is { } jsonMap)
        {
            if (_reader.Require(jsonMap, "path") && _reader.String(jsonMap, "path") is { } p)
            {
                if (p.Split('.').Any(segment => segment.Length == 0 || segment.Any(char.IsWhiteSpace)))
                {
                    jsonMap.TryGet("path", out var pathNode);
                    _reader.Error(pathNode!, jsonMap.PathOf("path"), $"invalid JSON path '{p}': use dotted field names such as 'data.state'");
                }

                jsonPath = p;
            }

            if (_reader.Require(jsonMap, "equals") && jsonMap.TryGet("equals", out var equalsNode))
            {
                if (equalsNode is YamlScalarNode { Value: { } value } && !ConfigReader.IsNull(equalsNode))
                {
                    jsonEquals = value;
                }
                else
                {
                    _reader.Error(equalsNode, jsonMap.PathOf("equals"), $"expected a scalar value, got {ConfigReader.Describe(equalsNode)}");
                }
            }
        }

        return new ResponseCondition
        {
            Status = map.TryGet("status", out var statusNode) ? BindStatusList(statusNode, map.PathOf("status")) : [],
            Header = map.TryGet("header", out var headerNode) ? BindResponseHeader(headerNode, map.PathOf("header")) : null,
            JsonPath = jsonPath,
            JsonEquals = jsonEquals,
        };
    }

    private HedgeOptions? BindHedge(ConfigMapping map)
    {
        _reader.Require(map, "delay");
        var delay = _reader.OptionalDuration(map, "delay", MaxDuration);
        var maxExtra = _reader.Int(map, "max_extra", fallback: ConfigDefaults.HedgeMaxExtra, min: 1);
        return delay is { } d ? new HedgeOptions { Delay = d, MaxExtra = maxExtra } : null;
    }

    private RouteOptions? BindRoute(
        YamlNode node,
        string path,
        IReadOnlyList<string> clusterNames,
        IReadOnlyList<string> policyNames,
        Dictionary<string, int> firstLines)
    {
        var map = _reader.ReadMapping(node, path, RouteKeys);
        if (map is null)
        {
            return null;
        }

        string? name = null;
        if (_reader.Require(map, "name") && _reader.String(map, "name") is { } n)
        {
            map.TryGet("name", out var nameNode);
            if (!ConfigReader.IsValidName(n))
            {
                _reader.Error(nameNode!, map.PathOf("name"), ConfigReader.InvalidNameMessage("route", n));
            }
            else if (firstLines.TryGetValue(n, out var firstLine))
            {
                _reader.Error(nameNode!, map.PathOf("name"), $"duplicate route name '{n}' (first defined at line {firstLine})");
            }
            else
            {
                firstLines.Add(n, (int)node.Start.Line);
                name = n;
            }
        }

        string? cluster = null;
        if (_reader.Require(map, "cluster") && _reader.String(map, "cluster") is { } c)
        {
            cluster = CheckReference(map, "cluster", c, clusterNames);
        }

        string? policy = null;
        if (_reader.String(map, "policy") is { } p)
        {
            policy = CheckReference(map, "policy", p, policyNames);
        }

        var match = map.TryGet("match", out var matchNode) ? BindMatch(matchNode, map.PathOf("match")) : new RouteMatchOptions();
        if (name is null || cluster is null || match is null)
        {
            return null;
        }

        return new RouteOptions
        {
            Name = name,
            Match = match,
            Cluster = cluster,
            Policy = policy,
            Line = (int)node.Start.Line,
        };
    }

    private string? CheckReference(ConfigMapping map, string key, string name, IReadOnlyList<string> declared)
    {
        if (declared.Contains(name, StringComparer.Ordinal))
        {
            return name;
        }

        map.TryGet(key, out var node);
        var hint = declared.Count == 0
            ? $"no {key} is declared"
            : $"declared: {string.Join(", ", declared)}";
        _reader.Error(node!, map.PathOf(key), $"unknown {key} '{name}'{Spelling.DidYouMean(name, declared)}; {hint}");
        return null;
    }

    private RouteMatchOptions? BindMatch(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, MatchKeys);
        if (map is null)
        {
            return null;
        }

        var defaults = new RouteMatchOptions();
        var routePath = _reader.String(map, "path") ?? defaults.Path;
        if (!routePath.StartsWith('/'))
        {
            map.TryGet("path", out var pathNode);
            _reader.Error(pathNode!, map.PathOf("path"), $"must start with '/', got '{routePath}'");
        }

        var methods = new List<string>();
        if (map.TryGet("methods", out var methodsNode))
        {
            foreach (var (item, itemPath) in _reader.ReadSequence(methodsNode, map.PathOf("methods")) ?? [])
            {
                if (ReadMethod(item, itemPath) is not { } method)
                {
                    continue;
                }

                if (methods.Contains(method, StringComparer.Ordinal))
                {
                    _reader.Error(item, itemPath, $"duplicate method '{method}'");
                }
                else
                {
                    methods.Add(method);
                }
            }
        }

        var hosts = new List<string>();
        if (map.TryGet("hosts", out var hostsNode))
        {
            foreach (var (item, itemPath) in _reader.ReadSequence(hostsNode, map.PathOf("hosts")) ?? [])
            {
                if (!_reader.TryReadString(item, itemPath, out var host))
                {
                    continue;
                }

                if (!HostPattern().IsMatch(host))
                {
                    _reader.Error(item, itemPath, $"invalid host '{host}': use a host name with an optional port and leading '*.', e.g. 'api.example.com' or '*.example.com:8080'");
                }
                else
                {
                    hosts.Add(host);
                }
            }
        }

        return new RouteMatchOptions
        {
            Path = routePath,
            Methods = methods,
            Hosts = hosts,
            Headers = map.TryGet("headers", out var headersNode) ? BindList(headersNode, map.PathOf("headers"), BindHeaderMatch) : [],
        };
    }

    private HeaderMatchOptions? BindHeaderMatch(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, HeaderMatchKeys);
        if (map is null)
        {
            return null;
        }

        var name = RequiredHeaderName(map);
        var mode = HeaderMatchMode.Exact;
        var modeValid = !map.TryGet("mode", out var modeNode) || _reader.TryReadEnum(modeNode, map.PathOf("mode"), "mode", ConfigSpellings.HeaderModes, out mode);
        var values = map.TryGet("values", out var valuesNode) ? BindStringList(valuesNode, map.PathOf("values")) : [];
        if (!modeValid)
        {
            return null;
        }

        if (mode is HeaderMatchMode.Exists or HeaderMatchMode.NotExists)
        {
            if (values.Count > 0)
            {
                _reader.Error(valuesNode!, map.PathOf("values"), $"mode '{ModeName(mode)}' takes no values");
            }
        }
        else if (valuesNode is null || valuesNode is YamlSequenceNode { Children.Count: 0 } || ConfigReader.IsNull(valuesNode))
        {
            _reader.Error(valuesNode ?? map.Node, map.PathOf("values"), $"mode '{ModeName(mode)}' needs at least one value (use mode 'exists' to match any value)");
        }

        return name is null ? null : new HeaderMatchOptions { Name = name, Values = values, Mode = mode };
    }

    private static string ModeName(HeaderMatchMode mode) => ConfigSpellings.Name(ConfigSpellings.HeaderModes, mode);

    private string? RequiredHeaderName(ConfigMapping map)
    {
        if (!_reader.Require(map, "name") || _reader.String(map, "name") is not { } name)
        {
            return null;
        }

        if (!name.All(IsTokenChar))
        {
            map.TryGet("name", out var nameNode);
            _reader.Error(nameNode!, map.PathOf("name"), $"invalid header name '{name}': use letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 token)");
            return null;
        }

        return name;
    }

    /// <summary>RFC 9110 §5.6.2 <c>tchar</c>: the characters a header name may use.</summary>
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    private List<string> BindStringList(YamlNode node, string path)
    {
        var result = new List<string>();
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (_reader.TryReadString(item, itemPath, out var value))
            {
                result.Add(value);
            }
        }

        return result;
    }

    private List<T> BindList<T>(YamlNode node, string path, Func<YamlNode, string, T?> bind)
        where T : class
    {
        var result = new List<T>();
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (bind(item, itemPath) is { } value)
            {
                result.Add(value);
            }
        }

        return result;
    }

    [GeneratedRegex(@"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")]
    private static partial Regex HostPattern();
}
