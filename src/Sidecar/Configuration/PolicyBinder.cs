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
    private static readonly string[] PolicyKeys =
    [
        "max_attempts", "backoff", "retry_on", "methods", "per_try_timeout", "timeout", "retry_after", "buffer_limit",
        "budget", "max_concurrent_retries", "allow_overrides", "retry_until", "hedge",
    ];

    private static readonly string[] RetryAfterKeys = ["honor", "max"];
    private static readonly string[] BudgetKeys = ["enabled", "ratio", "min_per_second", "window"];
    private static readonly string[] ConditionKeys = ["status", "header", "json"];
    private static readonly string[] JsonConditionKeys = ["path", "equals"];
    private static readonly string[] HedgeKeys = ["delay", "max_extra"];

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

    public RetryPolicyOptions? BindPolicy(YamlScalarNode key, YamlNode node, LimitsOptions limits)
    {
        var name = key.Value!;
        var map = _reader.ReadMapping(node, ConfigReader.Child("policies", name), PolicyKeys);
        if (map is null)
        {
            return null;
        }

        var perTryTimeout = _reader.OptionalDuration(map, "per_try_timeout", ConfigReader.MaxDuration);
        var timeout = _reader.OptionalDuration(map, "timeout", ConfigReader.MaxDuration);
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
            Backoff = _reader.ReadChild(map, "backoff", BackoffBinder.BackoffKeys, _backoff.BindBackoff) ?? new BackoffOptions(),
            RetryOn = _reader.ReadChild(map, "retry_on", RetryOnBinder.RetryOnKeys, _retryOn.BindRetryOn) ?? new RetryOnOptions(),
            Methods = map.TryGet("methods", out var methodsNode)
                ? BindPolicyMethods(methodsNode, map.PathOf("methods")) ?? ConfigDefaults.IdempotentMethods
                : ConfigDefaults.IdempotentMethods,
            PerTryTimeout = perTryTimeout,
            Timeout = timeout,
            RetryAfter = _reader.ReadChild(map, "retry_after", RetryAfterKeys, BindRetryAfter) ?? new RetryAfterOptions(),
            BufferLimit = bufferLimit,
            Budget = map.TryGet("budget", out var budgetNode) ? BindBudget(budgetNode, map.PathOf("budget")) : new BudgetOptions(),
            MaxConcurrentRetries = _reader.Int(map, "max_concurrent_retries", ConfigDefaults.MaxConcurrentRetries, min: 1),
            AllowOverrides = _reader.Bool(map, "allow_overrides", fallback: false),
            RetryUntil = map.TryGet("retry_until", out var untilNode) ? BindRetryUntil(untilNode, map.PathOf("retry_until")) : [],
            Hedge = _reader.ReadChild(map, "hedge", HedgeKeys, BindHedge),
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
            Honor = _reader.Bool(map, "honor", defaults.Honor),
            Max = _reader.Duration(map, "max", defaults.Max, ConfigReader.MaxDuration),
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
            Window = _reader.Duration(map, "window", defaults.Window, ConfigReader.MaxDuration),
        };
    }

    private IReadOnlyList<ResponseCondition> BindRetryUntil(YamlNode node, string path) => _reader.ReadList(node, path, BindCondition);

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
            Status = map.TryGet("status", out var statusNode) ? _http.BindStatusList(statusNode, map.PathOf("status")) : [],
            Header = map.TryGet("header", out var headerNode) ? _http.BindResponseHeader(headerNode, map.PathOf("header")) : null,
            JsonPath = jsonPath,
            JsonEquals = jsonEquals,
        };
    }

    private HedgeOptions? BindHedge(ConfigMapping map)
    {
        _reader.Require(map, "delay");
        var delay = _reader.OptionalDuration(map, "delay", ConfigReader.MaxDuration);
        var maxExtra = _reader.Int(map, "max_extra", fallback: ConfigDefaults.HedgeMaxExtra, min: 1);
        return delay is { } d ? new HedgeOptions { Delay = d, MaxExtra = maxExtra } : null;
    }
}
