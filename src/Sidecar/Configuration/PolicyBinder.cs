using System.Collections.Frozen;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Binds one entry of <c>policies</c>: attempts, timeouts, <c>methods</c>, <c>retry_after</c>, <c>budget</c>,
/// <c>retry_until</c> and <c>hedge</c>, with <see cref="BackoffBinder"/> and <see cref="RetryOnBinder"/> for their sections.
/// </summary>
internal sealed class PolicyBinder
{
    private const string IdempotentKeyword = "idempotent";

    private readonly ConfigReader _reader;
    private readonly HttpValueBinder _http;
    private readonly BackoffBinder _backoff;
    private readonly RetryOnBinder _retryOn;

    public PolicyBinder(ConfigReader reader, HttpValueBinder http)
    {
        _reader = reader;
        _http = http;
        _backoff = new BackoffBinder(reader);
        _retryOn = new RetryOnBinder(reader, http);
    }

    /// <summary>Binds the policy named by <paramref name="key"/>, checking <c>buffer_limit</c> against <paramref name="limits"/>; <c>null</c> when its node is not a mapping.</summary>
    public RetryPolicyOptions? Bind(YamlScalarNode key, YamlNode node, LimitsOptions limits)
    {
        var name = key.Value!;
        var map = _reader.ReadMapping(node, ConfigReader.Child(SidecarConfigKeys.Policies, name), PolicyKeys.All);
        if (map is null)
        {
            return null;
        }

        var perTryTimeout = _reader.OptionalDuration(map, PolicyKeys.PerTryTimeout, ConfigReader.MaxDuration);
        var timeout = _reader.OptionalDuration(map, PolicyKeys.Timeout, ConfigReader.MaxDuration);
        if (perTryTimeout > timeout && map.TryGet(PolicyKeys.PerTryTimeout, out var perTryNode))
        {
            _reader.Error(
                perTryNode,
                map.PathOf(PolicyKeys.PerTryTimeout),
                $"per_try_timeout ({DurationParser.Format(perTryTimeout.Value)}) must not exceed timeout ({DurationParser.Format(timeout!.Value)})");
        }

        var bufferLimit = _reader.Size(map, PolicyKeys.BufferLimit, ConfigDefaults.BufferLimit);
        if (bufferLimit > limits.MaxBufferedBytes && map.TryGet(PolicyKeys.BufferLimit, out var bufferNode))
        {
            _reader.Error(
                bufferNode,
                map.PathOf(PolicyKeys.BufferLimit),
                $"buffer_limit ({SizeParser.Format(bufferLimit)}) must not exceed limits.max_buffered_bytes ({SizeParser.Format(limits.MaxBufferedBytes)}, {limits.Origin(limits.MaxBufferedBytesConfigured)})");
        }

        return new RetryPolicyOptions
        {
            Name = name,
            Line = (int)key.Start.Line,
            MaxAttempts = _reader.Int(map, PolicyKeys.MaxAttempts, ConfigDefaults.MaxAttempts, min: 1),
            Backoff = _reader.ReadChild(map, PolicyKeys.Backoff, BackoffKeys.All, _backoff.Bind) ?? new BackoffOptions(),
            RetryOn = _reader.ReadChild(map, PolicyKeys.RetryOn, RetryOnKeys.All, _retryOn.Bind) ?? new RetryOnOptions(),
            Methods = map.TryGet(PolicyKeys.Methods, out var methodsNode)
                ? BindPolicyMethods(methodsNode, map.PathOf(PolicyKeys.Methods)) ?? ConfigDefaults.IdempotentMethods
                : ConfigDefaults.IdempotentMethods,
            PerTryTimeout = perTryTimeout,
            Timeout = timeout,
            RetryAfter = _reader.ReadChild(map, PolicyKeys.RetryAfter, PolicyKeys.RetryAfterKeys.All, BindRetryAfter) ?? new RetryAfterOptions(),
            BufferLimit = bufferLimit,
            Budget = map.TryGet(PolicyKeys.Budget, out var budgetNode) ? BindBudget(budgetNode, map.PathOf(PolicyKeys.Budget)) : new BudgetOptions(),
            MaxConcurrentRetries = _reader.Int(map, PolicyKeys.MaxConcurrentRetries, ConfigDefaults.MaxConcurrentRetries, min: 1),
            AllowOverrides = _reader.Bool(map, PolicyKeys.AllowOverrides, fallback: false),
            AllowExplain = _reader.Bool(map, PolicyKeys.AllowExplain, fallback: false),
            RetryUntil = map.TryGet(PolicyKeys.RetryUntil, out var untilNode) ? BindRetryUntil(untilNode, map.PathOf(PolicyKeys.RetryUntil)) : [],
            Hedge = _reader.ReadChild(map, PolicyKeys.Hedge, PolicyKeys.HedgeKeys.All, BindHedge),
        };
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

            if (_http.ReadMethod(item, itemPath) is { } method && !methods.Add(method))
            {
                _reader.Error(item, itemPath, $"duplicate method '{method}'");
            }
        }

        return methods.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    private RetryAfterOptions BindRetryAfter(ConfigMapping map)
    {
        var defaults = new RetryAfterOptions();
        return new RetryAfterOptions
        {
            Honor = _reader.Bool(map, PolicyKeys.RetryAfterKeys.Honor, defaults.Honor),
            Max = _reader.Duration(map, PolicyKeys.RetryAfterKeys.Max, defaults.Max, ConfigReader.MaxDuration),
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

        var map = _reader.ReadMapping(node, path, PolicyKeys.BudgetKeys.All);
        if (map is null)
        {
            return new BudgetOptions();
        }

        var defaults = new BudgetOptions();
        return new BudgetOptions
        {
            Enabled = _reader.Bool(map, PolicyKeys.BudgetKeys.Enabled, defaults.Enabled),
            Ratio = _reader.Double(map, PolicyKeys.BudgetKeys.Ratio, defaults.Ratio, 0, 1),
            MinPerSecond = _reader.Int(map, PolicyKeys.BudgetKeys.MinPerSecond, defaults.MinPerSecond, min: 0),
            Window = _reader.Duration(map, PolicyKeys.BudgetKeys.Window, defaults.Window, ConfigReader.MaxDuration),
        };
    }

    private IReadOnlyList<ResponseCondition> BindRetryUntil(YamlNode node, string path) => _reader.ReadList(node, path, BindCondition);

    private ResponseCondition? BindCondition(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, PolicyKeys.ConditionKeys.All);
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
        if (map.TryGet(PolicyKeys.ConditionKeys.Json, out var jsonNode) && _reader.ReadMapping(jsonNode, map.PathOf(PolicyKeys.ConditionKeys.Json), PolicyKeys.JsonConditionKeys.All) is { } jsonMap)
        {
            if (_reader.Require(jsonMap, PolicyKeys.JsonConditionKeys.Path) && _reader.String(jsonMap, PolicyKeys.JsonConditionKeys.Path) is { } p)
            {
                if (p.Split('.').Any(segment => segment.Length == 0 || segment.Any(char.IsWhiteSpace)))
                {
                    jsonMap.TryGet(PolicyKeys.JsonConditionKeys.Path, out var pathNode);
                    _reader.Error(pathNode!, jsonMap.PathOf(PolicyKeys.JsonConditionKeys.Path), $"invalid JSON path '{p}': use dotted field names such as 'data.state'");
                }

                jsonPath = p;
            }

            if (_reader.Require(jsonMap, PolicyKeys.JsonConditionKeys.Equal) && jsonMap.TryGet(PolicyKeys.JsonConditionKeys.Equal, out var equalsNode))
            {
                if (equalsNode is YamlScalarNode { Value: { } value } && !ConfigReader.IsNull(equalsNode))
                {
                    jsonEquals = value;
                }
                else
                {
                    _reader.Error(equalsNode, jsonMap.PathOf(PolicyKeys.JsonConditionKeys.Equal), $"expected a scalar value, got {ConfigReader.Describe(equalsNode)}");
                }
            }
        }

        return new ResponseCondition
        {
            Status = map.TryGet(PolicyKeys.ConditionKeys.Status, out var statusNode) ? _http.BindStatusList(statusNode, map.PathOf(PolicyKeys.ConditionKeys.Status)) : [],
            Header = map.TryGet(PolicyKeys.ConditionKeys.Header, out var headerNode) ? _http.BindResponseHeader(headerNode, map.PathOf(PolicyKeys.ConditionKeys.Header)) : null,
            JsonPath = jsonPath,
            JsonEquals = jsonEquals,
        };
    }

    private HedgeOptions? BindHedge(ConfigMapping map)
    {
        _reader.Require(map, PolicyKeys.HedgeKeys.Delay);
        var delay = _reader.OptionalDuration(map, PolicyKeys.HedgeKeys.Delay, ConfigReader.MaxDuration);
        var maxExtra = _reader.Int(map, PolicyKeys.HedgeKeys.MaxExtra, fallback: ConfigDefaults.HedgeMaxExtra, min: 1);
        return delay is { } d ? new HedgeOptions { Delay = d, MaxExtra = maxExtra } : null;
    }
}
