using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>telemetry</c>.</summary>
internal sealed class TelemetryBinder
{
    private static readonly string[] TelemetryKeys = ["dotnet_metrics"];

    private readonly ConfigReader _reader;

    public TelemetryBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    public TelemetryOptions BindTelemetry(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, TelemetryKeys);
        if (map is null)
        {
            return new TelemetryOptions();
        }

        return new TelemetryOptions { DotnetMetrics = _reader.Bool(map, "dotnet_metrics", ConfigDefaults.DotnetMetrics) };
    }
}
