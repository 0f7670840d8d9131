using System.Diagnostics;
using System.Text.Json;

namespace Sidecar.Configuration;

/// <summary>
/// The JSON Schema shapes <see cref="ConfigSchema"/> is built from: mappings with a fixed key list, mappings of
/// user-chosen names, sequences, and the scalar shapes Sidecar reads (durations, sizes, statuses, enumerations).
/// Each pattern is written as the parser that reads the value accepts it, so the schema never rejects what the binder takes.
/// </summary>
internal static class SchemaShapes
{
    /// <summary>As <see cref="DecimalWithUnit"/> and <see cref="DurationParser"/> read it: a number, one unit, no space.</summary>
    private const string DurationPattern = "^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$";

    /// <summary>As <see cref="SizeParser"/> reads it: 1024-based units, case-sensitive.</summary>
    private const string SizePattern = "^[0-9]+(\\.[0-9]+)?(B|KiB|MiB|GiB)$";

    /// <summary>As <see cref="ConfigReader.IsValidName"/> checks cluster and policy names.</summary>
    public const string NamePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$";

    /// <summary>A status code (<c>503</c>) or class (<c>5xx</c>), as <see cref="StatusParser"/> reads it from a string.</summary>
    private const string StatusPattern = "^([1-5][0-9][0-9]|[1-5][xX][xX])$";

    /// <summary>A mapping with exactly <paramref name="keys"/>; empty (<c>key:</c>) means every default, as the binder reads it.</summary>
    public static void Mapping(Utf8JsonWriter json, IReadOnlyList<string> keys, Action<Utf8JsonWriter, string> property, IReadOnlyList<string>? required = null)
    {
        json.WriteStartObject();
        WriteMappingBody(json, keys, property, nullable: true, required ?? []);
        json.WriteEndObject();
    }

    public static void WriteMappingBody(Utf8JsonWriter json, IReadOnlyList<string> keys, Action<Utf8JsonWriter, string> property, bool nullable, IReadOnlyList<string> required)
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
    public static void NamedMapping(Utf8JsonWriter json, int minimum, Action<Utf8JsonWriter> entry)
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

    public static void Sequence(Utf8JsonWriter json, Action<Utf8JsonWriter> item, int minimum = 0)
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

    public static void StatusList(Utf8JsonWriter json) =>
        Sequence(json, static json => AnyOf(json, static json => Integer(json, minimum: 100, maximum: 599), static json => Pattern(json, StatusPattern)));

    public static void AnyOf(Utf8JsonWriter json, params Action<Utf8JsonWriter>[] choices)
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

    public static void Duration(Utf8JsonWriter json) => Pattern(json, DurationPattern);

    public static void Size(Utf8JsonWriter json) => Pattern(json, SizePattern);

    public static void Pattern(Utf8JsonWriter json, string pattern)
    {
        json.WriteStartObject();
        json.WriteString("type", "string");
        json.WriteString("pattern", pattern);
        json.WriteEndObject();
    }

    public static void Text(Utf8JsonWriter json) => Types(json, "string");

    public static void Bool(Utf8JsonWriter json) => Types(json, "boolean");

    public static void Types(Utf8JsonWriter json, params string[] types)
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

    public static void OneOf<T>(Utf8JsonWriter json, IReadOnlyList<(string Name, T Value)> spellings)
    {
        var names = new string[spellings.Count];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = spellings[i].Name;
        }

        OneOf(json, names);
    }

    public static void OneOf(Utf8JsonWriter json, IReadOnlyList<string> names)
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

    public static void Integer(Utf8JsonWriter json, int minimum, int? maximum = null)
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

    public static void Number(Utf8JsonWriter json, double? minimum = null, double? exclusiveMinimum = null, double? maximum = null)
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

    public static void WriteType(Utf8JsonWriter json, bool nullable, string type)
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

    public static UnreachableException NoSchema(string key) =>
        new($"The config key '{key}' has no JSON Schema: add it to {nameof(ConfigSchema)} or {nameof(PolicySchema)} beside its binder's key list.");
}
