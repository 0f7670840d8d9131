using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// Validates a JSON value against the subset of JSON Schema (draft 7) that the chart's
/// <c>values.schema.json</c> (with the config schema of <c>sidecar schema</c> in it) uses: <c>type</c>,
/// <c>properties</c>, <c>required</c>, <c>additionalProperties</c>, <c>propertyNames</c>, <c>enum</c>, <c>items</c>,
/// <c>minimum</c>, <c>exclusiveMinimum</c>, <c>maximum</c>, <c>minItems</c>, <c>minProperties</c>, <c>pattern</c>,
/// <c>anyOf</c> and local <c>$ref</c>.
/// A schema using any other keyword is rejected, so the schema cannot outgrow what this checks
/// without the tests saying so. No JSON Schema library is available to the build.
/// </summary>
internal sealed class JsonSchemaSubsetValidator
{
    private static readonly HashSet<string> AnnotationKeywords = ["$schema", "$id", "title", "description", "definitions", "$defs", "default", "examples"];

    private static readonly HashSet<string> ValidationKeywords = [
        "type", "properties", "required", "additionalProperties", "propertyNames", "enum", "items", "minimum", "exclusiveMinimum",
        "maximum", "minItems", "minProperties", "pattern", "anyOf", "$ref",
    ];

    private readonly JsonElement _root;

    public JsonSchemaSubsetValidator(JsonElement root) => _root = root;

    /// <summary>Every violation as <c>$.path: message</c>; empty when <paramref name="instance"/> is valid.</summary>
    public IReadOnlyList<string> Validate(JsonElement instance)
    {
        var errors = new List<string>();
        Validate(_root, instance, "$", errors);
        return errors;
    }

    private void Validate(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        if (schema.ValueKind == JsonValueKind.True)
        {
            return;
        }

        if (schema.ValueKind == JsonValueKind.False)
        {
            errors.Add($"{path}: not allowed");
            return;
        }

        foreach (var keyword in schema.EnumerateObject())
        {
            if (!ValidationKeywords.Contains(keyword.Name) && !AnnotationKeywords.Contains(keyword.Name))
            {
                throw new NotSupportedException($"Schema keyword '{keyword.Name}' at {path} is outside the supported subset.");
            }
        }

        if (schema.TryGetProperty("$ref", out var reference))
        {
            Validate(Resolve(reference.GetString()!), instance, path, errors);
        }

        if (schema.TryGetProperty("type", out var type) && !MatchesType(type, instance))
        {
            errors.Add($"{path}: expected {type.GetRawText()}, got {Describe(instance)}");
            return;
        }

        if (schema.TryGetProperty("anyOf", out var choices)
            && !choices.EnumerateArray().Any(choice =>
            {
                var choiceErrors = new List<string>();
                Validate(choice, instance, path, choiceErrors);
                return choiceErrors.Count == 0;
            }))
        {
            errors.Add($"{path}: {instance.GetRawText()} matches none of {choices.GetRawText()}");
        }

        if (schema.TryGetProperty("pattern", out var pattern)
            && instance.ValueKind == JsonValueKind.String
            && !Regex.IsMatch(instance.GetString()!, pattern.GetString()!, RegexOptions.CultureInvariant))
        {
            errors.Add($"{path}: {instance.GetRawText()} does not match {pattern.GetRawText()}");
        }

        if (schema.TryGetProperty("maximum", out var maximum)
            && instance.ValueKind == JsonValueKind.Number
            && instance.GetDouble() > maximum.GetDouble())
        {
            errors.Add($"{path}: {instance.GetRawText()} is more than the maximum {maximum.GetRawText()}");
        }

        if (schema.TryGetProperty("exclusiveMinimum", out var exclusiveMinimum)
            && instance.ValueKind == JsonValueKind.Number
            && instance.GetDouble() <= exclusiveMinimum.GetDouble())
        {
            errors.Add($"{path}: {instance.GetRawText()} is not more than {exclusiveMinimum.GetRawText()}");
        }

        if (schema.TryGetProperty("minItems", out var minItems)
            && instance.ValueKind == JsonValueKind.Array
            && instance.GetArrayLength() < minItems.GetInt32())
        {
            errors.Add($"{path}: fewer than {minItems.GetRawText()} items");
        }

        if (schema.TryGetProperty("enum", out var allowed)
            && !allowed.EnumerateArray().Any(candidate => JsonElement.DeepEquals(candidate, instance)))
        {
            errors.Add($"{path}: {instance.GetRawText()} is not one of {allowed.GetRawText()}");
        }

        if (schema.TryGetProperty("minimum", out var minimum)
            && instance.ValueKind == JsonValueKind.Number
            && instance.GetDouble() < minimum.GetDouble())
        {
            errors.Add($"{path}: {instance.GetRawText()} is less than the minimum {minimum.GetRawText()}");
        }

        if (instance.ValueKind == JsonValueKind.Object)
        {
            ValidateObject(schema, instance, path, errors);
        }

        if (instance.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            var index = 0;
            foreach (var item in instance.EnumerateArray())
            {
                Validate(items, item, string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]"), errors);
                index++;
            }
        }
    }

    private void ValidateObject(JsonElement schema, JsonElement instance, string path, List<string> errors)
    {
        if (schema.TryGetProperty("required", out var required))
        {
            foreach (var name in required.EnumerateArray())
            {
                if (!instance.TryGetProperty(name.GetString()!, out _))
                {
                    errors.Add($"{path}: required property '{name.GetString()}' is missing");
                }
            }
        }

        if (schema.TryGetProperty("minProperties", out var minProperties) && instance.EnumerateObject().Count() < minProperties.GetInt32())
        {
            errors.Add($"{path}: fewer than {minProperties.GetRawText()} properties");
        }

        if (schema.TryGetProperty("propertyNames", out var names))
        {
            foreach (var property in instance.EnumerateObject())
            {
                Validate(names, JsonSerializer.SerializeToElement(property.Name), $"{path}.{property.Name} (name)", errors);
            }
        }

        var hasProperties = schema.TryGetProperty("properties", out var properties);
        var hasAdditional = schema.TryGetProperty("additionalProperties", out var additional);
        foreach (var property in instance.EnumerateObject())
        {
            var propertyPath = $"{path}.{property.Name}";
            if (hasProperties && properties.TryGetProperty(property.Name, out var propertySchema))
            {
                Validate(propertySchema, property.Value, propertyPath, errors);
            }
            else if (hasAdditional && additional.ValueKind == JsonValueKind.False)
            {
                errors.Add($"{path}: additional property '{property.Name}' is not allowed");
            }
            else if (hasAdditional)
            {
                Validate(additional, property.Value, propertyPath, errors);
            }
        }
    }

    private JsonElement Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"Only local $ref is supported, not '{reference}'.");
        }

        var target = _root;
        foreach (var segment in reference[2..].Split('/'))
        {
            target = target.GetProperty(segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));
        }

        return target;
    }

    private static bool MatchesType(JsonElement type, JsonElement instance) =>
        type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Any(one => MatchesType(one.GetString()!, instance))
            : MatchesType(type.GetString()!, instance);

    private static bool MatchesType(string type, JsonElement instance) => type switch
    {
        "object" => instance.ValueKind == JsonValueKind.Object,
        "array" => instance.ValueKind == JsonValueKind.Array,
        "string" => instance.ValueKind == JsonValueKind.String,
        "boolean" => instance.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => instance.ValueKind == JsonValueKind.Null,
        "number" => instance.ValueKind == JsonValueKind.Number,
        "integer" => instance.ValueKind == JsonValueKind.Number && double.IsInteger(instance.GetDouble()),
        _ => throw new NotSupportedException($"Unknown JSON Schema type '{type}'."),
    };

    private static string Describe(JsonElement instance) => instance.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => double.IsInteger(instance.GetDouble()) ? "integer" : "number",
        _ => instance.ValueKind.ToString().ToLowerInvariant(),
    };
}
