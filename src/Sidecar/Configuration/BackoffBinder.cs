using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds a policy's <c>backoff</c> and checks it against <see cref="BackoffRules"/>.</summary>
internal sealed class BackoffBinder
{
    private readonly ConfigReader _reader;

    public BackoffBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    /// <summary>Binds a policy's <c>backoff</c> mapping.</summary>
    public BackoffOptions Bind(ConfigMapping map)
    {
        var defaults = new BackoffOptions();
        var baseDelay = _reader.Duration(map, BackoffKeys.Base, defaults.Base, ConfigReader.MaxDuration, allowZero: true);
        var maxDelay = _reader.Duration(map, BackoffKeys.Max, defaults.Max, ConfigReader.MaxDuration, allowZero: true);
        if (!BackoffRules.IsOrdered(baseDelay, maxDelay))
        {
            // Either side may be the default; point at whichever the user wrote.
            var at = map.TryGet(BackoffKeys.Max, out var maxNode) ? maxNode : map.TryGet(BackoffKeys.Base, out var baseNode) ? baseNode : map.Node;
            var atKey = map.TryGet(BackoffKeys.Max, out _) ? BackoffKeys.Max : BackoffKeys.Base;
            _reader.Error(
                at,
                map.PathOf(atKey),
                $"backoff.max ({DurationParser.Format(maxDelay)}) must be at least backoff.base ({DurationParser.Format(baseDelay)})");
        }

        return new BackoffOptions
        {
            Algorithm = _reader.Optional(map, BackoffKeys.Algorithm, defaults.Algorithm, (YamlNode n, string p, out BackoffAlgorithm v) => _reader.TryReadEnum(n, p, "algorithm", ConfigSpellings.Algorithms, out v)),
            Base = baseDelay,
            Max = maxDelay,
            Multiplier = _reader.Double(map, BackoffKeys.Multiplier, defaults.Multiplier, BackoffRules.MinMultiplier, double.PositiveInfinity),
            Jitter = _reader.Optional(map, BackoffKeys.Jitter, defaults.Jitter, (YamlNode n, string p, out JitterMode v) => _reader.TryReadEnum(n, p, "jitter", ConfigSpellings.JitterModes, out v)),
            JitterFactor = _reader.Double(map, BackoffKeys.JitterFactor, defaults.JitterFactor, BackoffRules.MinJitterFactor, BackoffRules.MaxJitterFactor),
        };
    }
}
