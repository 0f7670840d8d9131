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
            Access = _reader.Optional(map, LogsKeys.Access, ConfigDefaults.AccessLog, (YamlNode n, string p, out AccessLogMode v) => _reader.TryReadEnum(n, p, "access log mode", ConfigSpellings.AccessLogModes, out v)),
            AccessSample = _reader.Double(map, LogsKeys.AccessSample, ConfigDefaults.AccessLogSample, 0, 1),
        };
    }
}
