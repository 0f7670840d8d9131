using Sidecar.Configuration;

namespace Sidecar.Cli;

/// <summary>Finds the config the user meant: <c>--config</c>, then <c>SIDECAR_CONFIG</c>, then <c>config/sidecar.yaml</c>, then the embedded default.</summary>
internal static class ConfigSource
{
    public const string EnvironmentVariable = "SIDECAR_CONFIG";
    public const string DefaultPath = "config/sidecar.yaml";
    public const string EmbeddedName = "<embedded default>";

    /// <summary>Loads the config; the returned path is <c>null</c> for the embedded default (nothing to watch).</summary>
    public static (ConfigLoadResult Result, string? Path, string? Text) Load(string? explicitPath)
    {
        var path = explicitPath;
        if (string.IsNullOrEmpty(path))
        {
            path = Environment.GetEnvironmentVariable(EnvironmentVariable);
        }

        if (string.IsNullOrEmpty(path))
        {
            path = File.Exists(DefaultPath) ? DefaultPath : null;
        }

        if (path is null)
        {
            var embedded = ReadEmbeddedDefault();
            return (SidecarConfigLoader.Parse(embedded, EmbeddedName), null, embedded);
        }

        string? text = null;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // LoadFile reports the same problem as a located error.
        }

        return (text is null ? SidecarConfigLoader.LoadFile(path) : SidecarConfigLoader.Parse(text, path), path, text);
    }

    public static string ReadEmbeddedDefault()
    {
        using var stream = typeof(ConfigSource).Assembly.GetManifestResourceStream("Sidecar.default.yaml")
            ?? throw new InvalidOperationException("The embedded default config is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
