using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>logs</c>.</summary>
internal sealed class LogsBinder
{
    private readonly ConfigReader _reader;

    public LogsBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    /// <summary>Binds <c>logs</c> at <paramref name="path"/>.</summary>
    public LogsOptions Bind(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, LogsKeys.All);
        if (map is null)
        {
            return new LogsOptions();
        }

        return new LogsOptions
        {
            Access = _reader.Optional(map, LogsKeys.Access, ConfigDefaults.AccessLog, ReadMode),
            AccessSample = _reader.Double(map, LogsKeys.AccessSample, ConfigDefaults.AccessLogSample, 0, 1),
        };
    }

    private bool ReadMode(YamlNode node, string path, out AccessLogMode mode)
    {
        // A YAML 1.1 reader such as Helm's turns a bare off in its values into false, which the chart writes back.
        if (node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "false" })
        {
            mode = AccessLogMode.Off;
            return true;
        }

        return _reader.TryReadEnum(node, path, "access log mode", ConfigSpellings.AccessLogModes, out mode);
    }
}
