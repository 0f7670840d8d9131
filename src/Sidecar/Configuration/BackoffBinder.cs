using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds a policy's <c>backoff</c> and checks that its delays are consistent.</summary>
internal sealed class BackoffBinder
{
    public static readonly string[] BackoffKeys = ["algorithm", "base", "max", "multiplier", "jitter", "jitter_factor"];

    private readonly ConfigReader _reader;

    public BackoffBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    public BackoffOptions BindBackoff(ConfigMapping map)
    {
        var defaults = new BackoffOptions();
        var baseDelay = _reader.Duration(map, "base", defaults.Base, ConfigReader.MaxDuration, allowZero: true);
        var maxDelay = _reader.Duration(map, "max", defaults.Max, ConfigReader.MaxDuration, allowZero: true);
        if (maxDelay < baseDelay)
        {
            // Either side may be the default; point at whichever the user wrote.
            var at = map.TryGet("max", out var maxNode) ? maxNode : map.TryGet("base", out var baseNode) ? baseNode : map.Node;
            var atKey = map.TryGet("max", out _) ? "max" : "base";
            _reader.Error(
                at,
                map.PathOf(atKey),
                $"backoff.max ({DurationParser.Format(maxDelay)}) must be at least backoff.base ({DurationParser.Format(baseDelay)})");
        }

        return new BackoffOptions
        {
            Algorithm = _reader.Optional(map, "algorithm", defaults.Algorithm, (YamlNode n, string p, out BackoffAlgorithm v) => _reader.TryReadEnum(n, p, "algorithm", ConfigSpellings.Algorithms, out v)),
            Base = baseDelay,
            Max = maxDelay,
            Multiplier = _reader.Double(map, "multiplier", defaults.Multiplier, 1, double.PositiveInfinity),
            Jitter = _reader.Optional(map, "jitter", defaults.Jitter, (YamlNode n, string p, out JitterMode v) => _reader.TryReadEnum(n, p, "jitter", ConfigSpellings.JitterModes, out v)),
            JitterFactor = _reader.Double(map, "jitter_factor", defaults.JitterFactor, 0, 1),
        };
    }
}
