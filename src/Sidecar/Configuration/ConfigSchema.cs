using System.Buffers;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sidecar.Grpc;

namespace Sidecar.Configuration;

/// <summary>
/// The JSON Schema (draft-07) of <c>sidecar.yaml</c>, printed by <c>sidecar schema</c> and embedded in the Helm chart's
/// <c>values.schema.json</c>. Each mapping's properties are generated from the binder's own key lists
/// (<see cref="ListenKeys.All"/>, <see cref="PolicyKeys.All"/>, ...), so a key the binder accepts is a key the schema
/// knows; a key without a schema here throws when the schema is written, which the tests turn into a failure.
/// </summary>
/// <remarks>
/// The schema catches what editors and <c>helm lint</c> can check cheaply (unknown keys, types, enumerations, the
/// shape of durations and sizes); the binder stays the judge of everything else (cross-key rules, references
/// between routes and clusters), so the schema never rejects a file the binder accepts. Enumerations come from
/// <see cref="ConfigSpellings"/>. Written with <see cref="Utf8JsonWriter"/>: no reflection, fine under Native AOT.
/// </remarks>
internal static class ConfigSchema
{
    public const string Draft = "http://json-schema.org/draft-07/schema#";

    /// <summary>As <see cref="DecimalWithUnit"/> and <see cref="DurationParser"/> read it: a number, one unit, no space.</summary>
    private const string DurationPattern = "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$";

    /// <summary>As <see cref="SizeParser"/> reads it: 1024-based units, case-sensitive.</summary>
    private const string SizePattern = "^[0-9]+(\\.[0-9]+)?(B|KiB|MiB|GiB)$";

    /// <summary>As <see cref="ConfigReader.IsValidName"/> checks cluster and policy names.</summary>
    private const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

    /// <summary>A status code (<c>503</c>) or class (<c>5xx</c>), as <see cref="StatusParser"/> reads it from a string.</summary>
    private const string StatusPattern = "^([1-5][0-9][0-9]|[1-5][xX][xX])$";

    /// <summary>The schema as indented UTF-8 JSON, ending with a newline.</summary>
    public static string ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            Write(json);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan) + "\n";
    }

    public static void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("$schema", Draft);
        json.WriteString("title", "sidecar.yaml");
        json.WriteString("description", "Sidecar's configuration (printed by `sidecar schema`). Sidecar validates the file in full at start and on reload; this schema checks keys, types and value shapes for editors and helm lint.");
        WriteMappingBody(json, SidecarConfigKeys.All, Root, nullable: false, required: [SidecarConfigKeys.Clusters, SidecarConfigKeys.Routes]);
        json.WriteEndObject();
    }

    private static void Root(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case SidecarConfigKeys.Listen:
                Mapping(json, ListenKeys.All, Listen);
                break;
            case SidecarConfigKeys.Clusters:
                NamedMapping(json, minimum: 1, entry: json => Mapping(json, ClusterKeys.All, Cluster, required: [ClusterKeys.Destinations]));
                break;
            case SidecarConfigKeys.Policies:
                NamedMapping(json, minimum: 0, entry: json => Mapping(json, PolicyKeys.All, Policy));
                break;
            case SidecarConfigKeys.Routes:
                Sequence(json, json => Mapping(json, RouteKeys.All, Route, required: [RouteKeys.Name, RouteKeys.Cluster]), minimum: 1);
                break;
            case SidecarConfigKeys.Limits:
                Mapping(json, LimitsKeys.All, Limits);
                break;
            case SidecarConfigKeys.Telemetry:
                Mapping(json, TelemetryKeys.All, Telemetry);
                break;
            case SidecarConfigKeys.Logs:
                Mapping(json, LogsKeys.All, Logs);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Listen(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ListenKeys.Proxy or ListenKeys.Admin or ListenKeys.Metrics:
                Pattern(json, "^https?://[^/?#]+:[0-9]+/?$");
                break;
            case ListenKeys.ProxyProtocol:
                OneOf(json, ConfigSpellings.ProxyProtocols);
                break;
            case ListenKeys.Tls:
                Mapping(json, ListenKeys.TlsKeys.All, ListenTls, required: [ListenKeys.TlsKeys.CertFile, ListenKeys.TlsKeys.KeyFile]);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void ListenTls(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ListenKeys.TlsKeys.CertFile or ListenKeys.TlsKeys.KeyFile or ListenKeys.TlsKeys.ClientCaFile:
                Text(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Cluster(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ClusterKeys.Destinations:
                Sequence(json, static json => Pattern(json, "^https?://"), minimum: 1);
                break;
            case ClusterKeys.LoadBalancing:
                OneOf(json, ConfigSpellings.LoadBalancingPolicies);
                break;
            case ClusterKeys.Protocol:
                OneOf(json, ConfigSpellings.Protocols);
                break;
            case ClusterKeys.Health:
                Mapping(json, ClusterKeys.HealthKeys.All, Health);
                break;
            case ClusterKeys.CircuitBreaker:
                Mapping(json, ClusterKeys.CircuitBreakerKeys.All, CircuitBreaker);
                break;
            case ClusterKeys.Tls:
                Mapping(json, ClusterKeys.TlsKeys.All, UpstreamTls);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void UpstreamTls(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ClusterKeys.TlsKeys.CaFile or ClusterKeys.TlsKeys.CertFile or ClusterKeys.TlsKeys.KeyFile or ClusterKeys.TlsKeys.ServerName:
                Text(json);
                break;
            case ClusterKeys.TlsKeys.MinVersion:
                OneOf(json, ConfigSpellings.TlsVersions);
                break;
            case ClusterKeys.TlsKeys.InsecureSkipVerify:
                Bool(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Health(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ClusterKeys.HealthKeys.Passive:
                Bool(json);
                break;
            case ClusterKeys.HealthKeys.ReactivationPeriod:
                Duration(json);
                break;
            case ClusterKeys.HealthKeys.Active:
                Mapping(json, ClusterKeys.ActiveHealthKeys.All, ActiveHealth);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void ActiveHealth(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ClusterKeys.ActiveHealthKeys.Interval or ClusterKeys.ActiveHealthKeys.Timeout:
                Duration(json);
                break;
            case ClusterKeys.ActiveHealthKeys.Path:
                Pattern(json, "^/");
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void CircuitBreaker(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case ClusterKeys.CircuitBreakerKeys.FailureRatio:
                Number(json, exclusiveMinimum: 0, maximum: 1);
                break;
            case ClusterKeys.CircuitBreakerKeys.MinimumRequests:
                Integer(json, minimum: 1);
                break;
            case ClusterKeys.CircuitBreakerKeys.Window or ClusterKeys.CircuitBreakerKeys.BreakDuration:
                Duration(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Policy(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.MaxAttempts or PolicyKeys.MaxConcurrentRetries:
                Integer(json, minimum: 1);
                break;
            case PolicyKeys.Backoff:
                Mapping(json, BackoffKeys.All, Backoff);
                break;
            case PolicyKeys.RetryOn:
                Mapping(json, RetryOnKeys.All, RetryOn);
                break;
            case PolicyKeys.Methods:
                // "idempotent", or a list of methods (case-insensitive) that may include "idempotent".
                AnyOf(json, static json => OneOf(json, ["idempotent"]), static json => Sequence(json, Text));
                break;
            case PolicyKeys.PerTryTimeout or PolicyKeys.Timeout:
                Duration(json);
                break;
            case PolicyKeys.RetryAfter:
                Mapping(json, PolicyKeys.RetryAfterKeys.All, RetryAfter);
                break;
            case PolicyKeys.BufferLimit:
                Size(json);
                break;
            case PolicyKeys.Budget:
                // A mapping, or on/off (YAML 1.1 readers such as Helm's turn those into booleans).
                AnyOf(json, static json => Mapping(json, PolicyKeys.BudgetKeys.All, Budget), static json => OneOf(json, ["on", "off"]), Bool);
                break;
            case PolicyKeys.AllowOverrides or PolicyKeys.AllowExplain:
                Bool(json);
                break;
            case PolicyKeys.RetryUntil:
                Sequence(json, static json => Mapping(json, PolicyKeys.ConditionKeys.All, Condition));
                break;
            case PolicyKeys.Hedge:
                Mapping(json, PolicyKeys.HedgeKeys.All, Hedge, required: [PolicyKeys.HedgeKeys.Delay]);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Backoff(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case BackoffKeys.Algorithm:
                OneOf(json, ConfigSpellings.Algorithms);
                break;
            case BackoffKeys.Base or BackoffKeys.Max:
                Duration(json);
                break;
            case BackoffKeys.Multiplier:
                Number(json, minimum: BackoffRules.MinMultiplier);
                break;
            case BackoffKeys.Jitter:
                OneOf(json, ConfigSpellings.JitterModes);
                break;
            case BackoffKeys.JitterFactor:
                Number(json, minimum: BackoffRules.MinJitterFactor, maximum: BackoffRules.MaxJitterFactor);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void RetryOn(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case RetryOnKeys.Status:
                StatusList(json);
                break;
            case RetryOnKeys.Errors:
                Sequence(json, static json => OneOf(json, ConfigSpellings.ErrorNames));
                break;
            case RetryOnKeys.Headers:
                Sequence(json, static json => Mapping(json, HeaderKeys.ResponseHeader, Header, required: [HeaderKeys.Name]));
                break;
            case RetryOnKeys.Grpc:
                // A status name or number; OK (0) is a success and never retried.
                Sequence(json, static json => AnyOf(
                    json,
                    static json => Integer(json, minimum: 1, maximum: GrpcStatus.Count - 1),
                    static json => OneOf(json, [.. GrpcStatus.ConfigNames.Skip(1)]),
                    static json => Pattern(json, "^([1-9]|1[0-6])$")));
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void RetryAfter(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.RetryAfterKeys.Honor:
                Bool(json);
                break;
            case PolicyKeys.RetryAfterKeys.Max:
                Duration(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Budget(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.BudgetKeys.Enabled:
                Bool(json);
                break;
            case PolicyKeys.BudgetKeys.Ratio:
                Number(json, minimum: 0, maximum: 1);
                break;
            case PolicyKeys.BudgetKeys.MinPerSecond:
                Integer(json, minimum: 0);
                break;
            case PolicyKeys.BudgetKeys.Window:
                Duration(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Condition(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.ConditionKeys.Status:
                StatusList(json);
                break;
            case PolicyKeys.ConditionKeys.Header:
                Mapping(json, HeaderKeys.ResponseHeader, Header, required: [HeaderKeys.Name]);
                break;
            case PolicyKeys.ConditionKeys.Json:
                Mapping(json, PolicyKeys.JsonConditionKeys.All, JsonCondition, required: PolicyKeys.JsonConditionKeys.All);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void JsonCondition(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.JsonConditionKeys.Path:
                Text(json);
                break;
            case PolicyKeys.JsonConditionKeys.Equal:
                Types(json, "string", "number", "boolean");
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Hedge(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case PolicyKeys.HedgeKeys.Delay:
                Duration(json);
                break;
            case PolicyKeys.HedgeKeys.MaxExtra:
                Integer(json, minimum: 1);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Header(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case HeaderKeys.Name:
                Text(json);
                break;
            case HeaderKeys.Values:
                Sequence(json, Text);
                break;
            case HeaderKeys.Mode:
                OneOf(json, ConfigSpellings.HeaderModes);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Route(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case RouteKeys.Name or RouteKeys.Cluster or RouteKeys.Policy:
                Pattern(json, NamePattern);
                break;
            case RouteKeys.Match:
                Mapping(json, RouteKeys.MatchKeys.All, Match);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Match(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case RouteKeys.MatchKeys.Path:
                Pattern(json, "^/");
                break;
            case RouteKeys.MatchKeys.Methods or RouteKeys.MatchKeys.Hosts:
                Sequence(json, Text);
                break;
            case RouteKeys.MatchKeys.Headers:
                Sequence(json, static json => Mapping(json, HeaderKeys.Match, Header, required: [HeaderKeys.Name]));
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Limits(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case LimitsKeys.MaxBufferedBytes or LimitsKeys.MinRequestBodyRate:
                Size(json);
                break;
            case LimitsKeys.MaxConcurrentRequests or LimitsKeys.MaxPendingConnections:
                Integer(json, minimum: 1);
                break;
            case LimitsKeys.MaxWaitingRetries:
                Integer(json, minimum: 0);
                break;
            case LimitsKeys.DrainTimeout or LimitsKeys.DrainDelay or LimitsKeys.IdleConnectionTimeout or LimitsKeys.RequestHeaderTimeout:
                Duration(json);
                break;
            case LimitsKeys.Overload:
                Mapping(json, LimitsKeys.OverloadKeys.All, Overload);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Overload(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case LimitsKeys.OverloadKeys.Enabled:
                Bool(json);
                break;
            case LimitsKeys.OverloadKeys.CheckInterval:
                Duration(json);
                break;
            case LimitsKeys.OverloadKeys.StopBuffering or LimitsKeys.OverloadKeys.RejectRequests or LimitsKeys.OverloadKeys.StopAccepting:
                Number(json, exclusiveMinimum: 0, maximum: 1);
                break;
            case LimitsKeys.OverloadKeys.RecoveryMargin:
                Number(json, minimum: 0, maximum: 1);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Telemetry(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case TelemetryKeys.DotnetMetrics:
                Bool(json);
                break;
            default:
                throw NoSchema(key);
        }
    }

    private static void Logs(Utf8JsonWriter json, string key)
    {
        switch (key)
        {
            case LogsKeys.Access:
                // false: what a YAML 1.1 reader (Helm) makes of a bare off.
                AnyOf(json, static json => OneOf(json, ConfigSpellings.AccessLogModes), static json => Types(json, "boolean"));
                break;
            case LogsKeys.AccessSample:
                Number(json, minimum: 0, maximum: 1);
                break;
            default:
                throw NoSchema(key);
        }
    }

    /// <summary>A mapping with exactly <paramref name="keys"/>; empty (<c>key:</c>) means every default, as the binder reads it.</summary>
    private static void Mapping(Utf8JsonWriter json, IReadOnlyList<string> keys, Action<Utf8JsonWriter, string> property, IReadOnlyList<string>? required = null)
    {
        json.WriteStartObject();
        WriteMappingBody(json, keys, property, nullable: true, required ?? []);
        json.WriteEndObject();
    }

    private static void WriteMappingBody(Utf8JsonWriter json, IReadOnlyList<string> keys, Action<Utf8JsonWriter, string> property, bool nullable, IReadOnlyList<string> required)
    {
        WriteType(json, nullable, "object");
        json.WriteBoolean("additionalProperties", false);
        if (required.Count > 0)
        {
            json.WriteStartArray("required");
            foreach (var key in required)
            {
                json.WriteStringValue(key);
            }

            json.WriteEndArray();
        }

        json.WriteStartObject("properties");
        foreach (var key in keys)
        {
            json.WritePropertyName(key);
            property(json, key);
        }

        json.WriteEndObject();
    }

    /// <summary>A mapping of user-chosen names (clusters, policies) to <paramref name="entry"/>.</summary>
    private static void NamedMapping(Utf8JsonWriter json, int minimum, Action<Utf8JsonWriter> entry)
    {
        json.WriteStartObject();
        WriteType(json, nullable: minimum == 0, "object");
        if (minimum > 0)
        {
            json.WriteNumber("minProperties", minimum);
        }

        json.WriteStartObject("propertyNames");
        json.WriteString("pattern", NamePattern);
        json.WriteEndObject();
        json.WritePropertyName("additionalProperties");
        entry(json);
        json.WriteEndObject();
    }

    private static void Sequence(Utf8JsonWriter json, Action<Utf8JsonWriter> item, int minimum = 0)
    {
        json.WriteStartObject();
        WriteType(json, nullable: minimum == 0, "array");
        if (minimum > 0)
        {
            json.WriteNumber("minItems", minimum);
        }

        json.WritePropertyName("items");
        item(json);
        json.WriteEndObject();
    }

    private static void StatusList(Utf8JsonWriter json) =>
        Sequence(json, static json => AnyOf(json, static json => Integer(json, minimum: 100, maximum: 599), static json => Pattern(json, StatusPattern)));

    private static void AnyOf(Utf8JsonWriter json, params Action<Utf8JsonWriter>[] choices)
    {
        json.WriteStartObject();
        json.WriteStartArray("anyOf");
        foreach (var choice in choices)
        {
            choice(json);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Duration(Utf8JsonWriter json) => Pattern(json, DurationPattern);

    private static void Size(Utf8JsonWriter json) => Pattern(json, SizePattern);

    private static void Pattern(Utf8JsonWriter json, string pattern)
    {
        json.WriteStartObject();
        json.WriteString("type", "string");
        json.WriteString("pattern", pattern);
        json.WriteEndObject();
    }

    private static void Text(Utf8JsonWriter json) => Types(json, "string");

    private static void Bool(Utf8JsonWriter json) => Types(json, "boolean");

    private static void Types(Utf8JsonWriter json, params string[] types)
    {
        json.WriteStartObject();
        if (types.Length == 1)
        {
            json.WriteString("type", types[0]);
        }
        else
        {
            json.WriteStartArray("type");
            foreach (var type in types)
            {
                json.WriteStringValue(type);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    private static void OneOf<T>(Utf8JsonWriter json, IReadOnlyList<(string Name, T Value)> spellings)
    {
        var names = new string[spellings.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = spellings[i].Name;
        }

        OneOf(json, names);
    }

    private static void OneOf(Utf8JsonWriter json, IReadOnlyList<string> names)
    {
        json.WriteStartObject();
        json.WriteString("type", "string");
        json.WriteStartArray("enum");
        foreach (var name in names)
        {
            json.WriteStringValue(name);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Integer(Utf8JsonWriter json, int minimum, int? maximum = null)
    {
        json.WriteStartObject();
        json.WriteString("type", "integer");
        json.WriteNumber("minimum", minimum);
        if (maximum is { } max)
        {
            json.WriteNumber("maximum", max);
        }

        json.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter json, double? minimum = null, double? exclusiveMinimum = null, double? maximum = null)
    {
        json.WriteStartObject();
        json.WriteString("type", "number");
        if (minimum is { } min)
        {
            json.WriteNumber("minimum", min);
        }

        if (exclusiveMinimum is { } exclusive)
        {
            json.WriteNumber("exclusiveMinimum", exclusive);
        }

        if (maximum is { } max)
        {
            json.WriteNumber("maximum", max);
        }

        json.WriteEndObject();
    }

    private static void WriteType(Utf8JsonWriter json, bool nullable, string type)
    {
        if (nullable)
        {
            json.WriteStartArray("type");
            json.WriteStringValue(type);
            json.WriteStringValue("null");
            json.WriteEndArray();
        }
        else
        {
            json.WriteString("type", type);
        }
    }

    private static UnreachableException NoSchema(string key) =>
        new($"The config key '{key}' has no JSON Schema: add it to {nameof(ConfigSchema)} beside its binder's key list.");
}
