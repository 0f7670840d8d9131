using System.Text.Json;
using System.Text.RegularExpressions;
using Sidecar.Configuration;
using Sidecar.Tests.Packaging;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Configuration;

/// <summary>
/// <c>sidecar schema</c> (<see cref="ConfigSchema"/>) against the binder: at every mapping of the full reference the
/// binder's own list of allowed keys (from its "unknown key" error) is the schema's list of properties, every example
/// config is valid under the schema, and the typos and malformed values people write are not.
/// </summary>
public sealed partial class ConfigSchemaTests
{
    private const string UnknownKey = "zz_not_a_key";

    [Fact]
    public void ToJson_EveryMappingOfTheFullReference_HasExactlyTheKeysTheBinderAccepts()
    {
        using var schema = JsonDocument.Parse(ConfigSchema.ToJson());
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepositoryRoot.Combine("config", "examples", "full-reference.yaml"))));
        var visited = new HashSet<string>(StringComparer.Ordinal);

        Walk(stream, stream.Documents[0].RootNode, schema.RootElement, string.Empty, visited);

        // Every mapping the schema describes was checked: the full reference sets every section.
        Assert.Equal(MappingPaths(schema.RootElement, string.Empty).Order(StringComparer.Ordinal), visited.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ToJson_IsDraft07WithNoUnknownKeysAnywhere()
    {
        using var schema = JsonDocument.Parse(ConfigSchema.ToJson());

        Assert.Equal("http://json-schema.org/draft-07/schema#", schema.RootElement.GetProperty("$schema").GetString());
        Assert.All(MappingSchemas(schema.RootElement, string.Empty), mapping => Assert.False(mapping.Schema.GetProperty("additionalProperties").GetBoolean(), mapping.Path));
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Validate_ExampleConfig_IsValid(string file)
    {
        var errors = Validator().Validate(YamlToJson.Convert(YamlToJson.LoadFile(RepositoryRoot.Combine(file.Split('/')))));

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Theory]
    [InlineData("polices: { p: {} }", "$: additional property 'polices' is not allowed")]
    [InlineData("listen: { admn: http://127.0.0.1:9901 }", "$.listen: additional property 'admn' is not allowed")]
    [InlineData("listen: { metrics: \"0.0.0.0:9902\" }", "$.listen.metrics: \"0.0.0.0:9902\" does not match")]
    [InlineData("policies: { p: { per_try_timeout: 2 seconds } }", "$.policies.p.per_try_timeout: \"2 seconds\" does not match")]
    [InlineData("policies: { p: { per_try_timeout: 2000 } }", "$.policies.p.per_try_timeout: expected \"string\", got integer")]
    [InlineData("policies: { p: { buffer_limit: 64KB } }", "$.policies.p.buffer_limit: \"64KB\" does not match")]
    [InlineData("policies: { p: { backoff: { algorithm: exponentail } } }", "$.policies.p.backoff.algorithm: \"exponentail\" is not one of")]
    [InlineData("policies: { p: { max_attempts: 0 } }", "$.policies.p.max_attempts: 0 is less than the minimum 1")]
    [InlineData("policies: { p: { retry_on: { status: [6xx] } } }", "$.policies.p.retry_on.status[0]: \"6xx\" matches none of")]
    [InlineData("policies: { \"bad name\": {} }", "$.policies.bad name (name): \"bad name\" does not match")]
    [InlineData("limits: { overload: { stop_buffering: 0 } }", "$.limits.overload.stop_buffering: 0 is not more than 0")]
    public void Validate_CommonMistake_IsRejected(string line, string expected)
    {
        var yaml = $"""
            clusters:
              app: {"{"} destinations: ["http://orders:8080"] {"}"}
            routes:
              - {"{"} name: r, cluster: app {"}"}
            {line}
            """;

        var errors = Validator().Validate(YamlToJson.Convert(Load(yaml)));

        Assert.Contains(errors, error => error.StartsWith(expected, StringComparison.Ordinal));
        Assert.False(SidecarConfigLoader.Parse(yaml, "mistake.yaml").Succeeded, "the binder must reject what the schema rejects");
    }

    [Theory]
    [InlineData("policies: { p: { budget: off } }")]
    [InlineData("policies: { p: { budget: false } }")]
    [InlineData("policies: { p: , q: { methods: idempotent } }")]
    [InlineData("policies: { p: { retry_on: { status: [503, 5xx, \"429\"], grpc: [unavailable, 4, \"8\"] } } }")]
    [InlineData("listen:")]
    [InlineData("limits: { drain_delay: 0s, drain_timeout: 1.5m }")]
    public void Validate_ValueTheBinderAccepts_IsAccepted(string line)
    {
        var yaml = $"""
            clusters:
              app: {"{"} destinations: ["http://orders:8080"] {"}"}
            routes:
              - {"{"} name: r, cluster: app {"}"}
            {line}
            """;
        Assert.True(SidecarConfigLoader.Parse(yaml, "ok.yaml").Succeeded);

        var errors = Validator().Validate(YamlToJson.Convert(Load(yaml)));

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string> { "config/sidecar.yaml" };
        foreach (var file in Directory.GetFiles(RepositoryRoot.Combine("config", "examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add($"config/examples/{Path.GetFileName(file)}");
        }

        return data;
    }

    /// <summary>
    /// At each mapping of <paramref name="node"/> that the schema describes, adds an unknown key and reads the list of
    /// allowed keys from the binder's error, which must be the schema's properties; then walks on into the children.
    /// </summary>
    private static void Walk(YamlStream stream, YamlNode node, JsonElement schema, string path, HashSet<string> visited)
    {
        if (node is YamlMappingNode mapping && Alternative(schema, "object") is { } objectSchema)
        {
            if (objectSchema.TryGetProperty("properties", out var properties))
            {
                visited.Add(path);
                var key = new YamlScalarNode(UnknownKey);
                mapping.Children.Add(key, new YamlScalarNode("1"));
                var allowed = BinderAllowedKeys(stream, path);
                mapping.Children.Remove(key);
                Assert.Equal(properties.EnumerateObject().Select(p => p.Name), allowed);
            }

            foreach (var (childKey, child) in mapping.Children.ToList())
            {
                var name = ((YamlScalarNode)childKey).Value!;
                if (objectSchema.TryGetProperty("properties", out var known) && known.TryGetProperty(name, out var childSchema))
                {
                    Walk(stream, child, childSchema, Join(path, name), visited);
                }
                else if (objectSchema.TryGetProperty("additionalProperties", out var entry) && entry.ValueKind == JsonValueKind.Object)
                {
                    Walk(stream, child, entry, Join(path, "*"), visited);
                }
            }
        }
        else if (node is YamlSequenceNode sequence && Alternative(schema, "array") is { } arraySchema)
        {
            foreach (var item in sequence.Children)
            {
                Walk(stream, item, arraySchema.GetProperty("items"), path + "[]", visited);
            }
        }
    }

    private static List<string> BinderAllowedKeys(YamlStream stream, string path)
    {
        using var writer = new StringWriter();
        stream.Save(writer, assignAnchors: false);
        var result = SidecarConfigLoader.Parse(writer.ToString(), "reference.yaml");
        var error = Assert.Single(result.Errors.Select(e => e.ToString()), e => e.Contains($"unknown key '{UnknownKey}'", StringComparison.Ordinal));
        var match = AllowedKeys().Match(error);
        Assert.True(match.Success, $"{path}: {error}");
        return [.. match.Groups[1].Value.Split(", ")];
    }

    /// <summary>The schema itself, or the first of its <c>anyOf</c> choices, whose type includes <paramref name="type"/>.</summary>
    private static JsonElement? Alternative(JsonElement schema, string type)
    {
        if (schema.TryGetProperty("anyOf", out var choices))
        {
            return choices.EnumerateArray().Select(c => Alternative(c, type)).FirstOrDefault(c => c is not null);
        }

        if (!schema.TryGetProperty("type", out var types))
        {
            return null;
        }

        var matches = types.ValueKind == JsonValueKind.Array
            ? types.EnumerateArray().Any(t => t.GetString() == type)
            : types.GetString() == type;
        return matches ? schema : null;
    }

    private static IEnumerable<string> MappingPaths(JsonElement schema, string path) => MappingSchemas(schema, path).Select(m => m.Path);

    /// <summary>Every schema of a mapping with fixed keys, with its path (<c>*</c> for a user-chosen name, <c>[]</c> for a list item).</summary>
    private static IEnumerable<(string Path, JsonElement Schema)> MappingSchemas(JsonElement schema, string path)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            yield break;
        }

        if (schema.TryGetProperty("properties", out var properties))
        {
            yield return (path, schema);
            foreach (var property in properties.EnumerateObject())
            {
                foreach (var inner in MappingSchemas(property.Value, Join(path, property.Name)))
                {
                    yield return inner;
                }
            }
        }

        if (schema.TryGetProperty("additionalProperties", out var entry))
        {
            foreach (var inner in MappingSchemas(entry, Join(path, "*")))
            {
                yield return inner;
            }
        }

        if (schema.TryGetProperty("items", out var items))
        {
            foreach (var inner in MappingSchemas(items, path + "[]"))
            {
                yield return inner;
            }
        }

        if (schema.TryGetProperty("anyOf", out var choices))
        {
            foreach (var choice in choices.EnumerateArray())
            {
                foreach (var inner in MappingSchemas(choice, path))
                {
                    yield return inner;
                }
            }
        }
    }

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static JsonSchemaSubsetValidator Validator()
    {
        using var schema = JsonDocument.Parse(ConfigSchema.ToJson());
        return new JsonSchemaSubsetValidator(schema.RootElement.Clone());
    }

    private static YamlNode Load(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents[0].RootNode;
    }

    [GeneratedRegex("allowed keys: (.*)$")]
    private static partial Regex AllowedKeys();
}
