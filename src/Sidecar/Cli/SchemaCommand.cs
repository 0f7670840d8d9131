using Sidecar.Configuration;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar schema</c>: prints the JSON Schema of <c>sidecar.yaml</c> (<see cref="ConfigSchema"/>) for editors
/// (<c># yaml-language-server: $schema=...</c>) and for the Helm chart's <c>values.schema.json</c>.
/// </summary>
internal static class SchemaCommand
{
    public static int Run(TextWriter output)
    {
        output.Write(ConfigSchema.ToJson());
        return 0;
    }
}
