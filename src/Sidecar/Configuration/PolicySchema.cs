using System.Text.Json;
using Sidecar.Grpc;
using static Sidecar.Configuration.SchemaShapes;

namespace Sidecar.Configuration;

/// <summary>
/// The schema of a policy (<c>policies.NAME</c>) and its parts: backoff, <c>retry_on</c>, Retry-After, budget,
/// conditions and hedging, each generated from its binder's key list as <see cref="ConfigSchema"/> is.
/// </summary>
internal static class PolicySchema
{
    public static void Policy(Utf8JsonWriter json, string key)
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
                Sequence(json, static json => Mapping(json, HeaderKeys.ResponseHeader, ConfigSchema.Header, required: [HeaderKeys.Name]));
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
                Mapping(json, HeaderKeys.ResponseHeader, ConfigSchema.Header, required: [HeaderKeys.Name]);
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
}
