using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using static Sidecar.Configuration.SchemaShapes;

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
                NamedMapping(json, minimum: 0, entry: json => Mapping(json, PolicyKeys.All, PolicySchema.Policy));
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

    /// <summary>A header condition: shared by route matches and by policies' <c>retry_on</c> conditions.</summary>
    internal static void Header(Utf8JsonWriter json, string key)
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
            case LimitsKeys.DrainTimeout or LimitsKeys.DrainDelay or LimitsKeys.MaxQueueWait or LimitsKeys.IdleConnectionTimeout or LimitsKeys.RequestHeaderTimeout:
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
}
