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
            "tags": { "type": "array", "items": { "type": "string" } }
          },
          "definitions": {
            "policy": { "type": "string", "enum": ["Always", "Never"] }
          }
        }
        """;

    [Fact]
    public void Validate_ValidInstance_ReturnsNoErrors()
    {
        var errors = Validate("""{ "name": "a", "replicas": 2, "policy": "Never", "tags": ["x"] }""");

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
    public void Validate_InvalidInstance_ReportsViolationWithPath(string instance, string expected)
    {
        var errors = Validate(instance);

        Assert.Equal(expected, Assert.Single(errors));
    }

    [Fact]
    public void Validate_SchemaWithUnsupportedKeyword_Throws()
    {
        using var schema = JsonDocument.Parse("""{ "type": "string", "pattern": "^a" }""");
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
