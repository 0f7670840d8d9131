namespace Sidecar.Configuration;

/// <summary>Reads and validates <c>sidecar.yaml</c>. Never throws on bad input: every problem becomes a <see cref="ConfigError"/>.</summary>
internal static class SidecarConfigLoader
{
    /// <summary>Reads <paramref name="path"/> and parses it; a missing or unreadable file is one error at 1:1.</summary>
    public static ConfigLoadResult LoadFile(string path) => throw new NotImplementedException();

    /// <summary>Parses YAML text; <paramref name="sourcePath"/> names the file in errors.</summary>
    public static ConfigLoadResult Parse(string yaml, string sourcePath) => throw new NotImplementedException();
}
