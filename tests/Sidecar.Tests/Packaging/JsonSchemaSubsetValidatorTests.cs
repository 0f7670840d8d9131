using System.Text.Json;

namespace Sidecar.Tests.Packaging;

public sealed class JsonSchemaSubsetValidatorTests
{
    private const string Schema = """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["name"],
          "properties": {
            "name": { "type": "string" },
            "replicas": { "type": "integer", "minimum": 0 },
            "policy": { "$ref": "#/definitions/policy" },
            "tags": { "type": "array", "items": { "type": "string" } },
            "delay": { "type": "string", "pattern": "^[0-9]+(ms|s)$" },
            "ratio": { "type": "number", "exclusiveMinimum": 0, "maximum": 1 },
            "hosts": { "type": "array", "minItems": 1, "items": { "type": "string" } },
            "codes": { "type": "array", "items": { "anyOf": [{ "type": "integer", "minimum": 100 }, { "type": "string", "pattern": "^[1-5]xx$" }] } },
            "clusters": { "type": "object", "minProperties": 1, "propertyNames": { "pattern": "^[a-z]+$" }, "additionalProperties": { "type": "integer" } }
          },
          "definitions": {
            "policy": { "type": "string", "enum": ["Always", "Never"] }
          }
        }
        """;

    [Fact]
    public void Validate_ValidInstance_ReturnsNoErrors()
    {
        var errors = Validate("""{ "name": "a", "replicas": 2, "policy": "Never", "tags": ["x"], "delay": "250ms", "ratio": 1, "hosts": ["h"], "codes": [503, "5xx"], "clusters": { "a": 1 } }""");

        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("""{ "replicas": 1 }""", "$: required property 'name' is missing")]
    [InlineData("""{ "name": "a", "extra": 1 }""", "$: additional property 'extra' is not allowed")]
    [InlineData("""{ "name": 3 }""", "$.name: expected \"string\", got integer")]
    [InlineData("""{ "name": "a", "replicas": 1.5 }""", "$.replicas: expected \"integer\", got number")]
    [InlineData("""{ "name": "a", "replicas": -1 }""", "$.replicas: -1 is less than the minimum 0")]
    [InlineData("""{ "name": "a", "policy": "Sometimes" }""", "$.policy: \"Sometimes\" is not one of [\"Always\", \"Never\"]")]
    [InlineData("""{ "name": "a", "tags": ["x", true] }""", "$.tags[1]: expected \"string\", got boolean")]
    [InlineData("""{ "name": "a", "delay": "2 seconds" }""", "$.delay: \"2 seconds\" does not match \"^[0-9]+(ms|s)$\"")]
    [InlineData("""{ "name": "a", "ratio": 0 }""", "$.ratio: 0 is not more than 0")]
    [InlineData("""{ "name": "a", "ratio": 1.5 }""", "$.ratio: 1.5 is more than the maximum 1")]
    [InlineData("""{ "name": "a", "hosts": [] }""", "$.hosts: fewer than 1 items")]
    [InlineData("""{ "name": "a", "codes": ["6xx"] }""", "$.codes[0]: \"6xx\" matches none of [{ \"type\": \"integer\", \"minimum\": 100 }, { \"type\": \"string\", \"pattern\": \"^[1-5]xx$\" }]")]
    [InlineData("""{ "name": "a", "clusters": {} }""", "$.clusters: fewer than 1 properties")]
    [InlineData("""{ "name": "a", "clusters": { "A": 1 } }""", "$.clusters.A (name): \"A\" does not match \"^[a-z]+$\"")]
    public void Validate_InvalidInstance_ReportsViolationWithPath(string instance, string expected)
    {
        var errors = Validate(instance);

        Assert.Equal(expected, Assert.Single(errors));
    }

    [Fact]
    public void Validate_SchemaWithUnsupportedKeyword_Throws()
    {
        using var schema = JsonDocument.Parse("""{ "type": "string", "format": "uri" }""");
        using var instance = JsonDocument.Parse("\"a\"");

        Assert.Throws<NotSupportedException>(() => new JsonSchemaSubsetValidator(schema.RootElement).Validate(instance.RootElement));
    }

    private static IReadOnlyList<string> Validate(string instance)
    {
        using var schema = JsonDocument.Parse(Schema);
        using var document = JsonDocument.Parse(instance);
        return new JsonSchemaSubsetValidator(schema.RootElement).Validate(document.RootElement);
    }
}
