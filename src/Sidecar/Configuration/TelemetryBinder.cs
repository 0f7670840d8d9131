using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>telemetry</c>.</summary>
internal sealed class TelemetryBinder
{
    private readonly ConfigReader _reader;

    public TelemetryBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    /// <summary>Binds <c>telemetry</c> at <paramref name="path"/>.</summary>
    public TelemetryOptions Bind(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, TelemetryKeys.All);
        if (map is null)
        {
            return new TelemetryOptions();
        }

        return new TelemetryOptions { DotnetMetrics = _reader.Bool(map, TelemetryKeys.DotnetMetrics, ConfigDefaults.DotnetMetrics) };
    }
}
