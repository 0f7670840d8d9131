using System.Diagnostics.CodeAnalysis;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>A YAML mapping whose keys were checked against the allowed ones, with its key path.</summary>
internal sealed class ConfigMapping
{
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries;

    public ConfigMapping(YamlNode node, string path, IReadOnlyList<(YamlScalarNode Key, YamlNode Value)> entries)
    {
        Node = node;
        Path = path;
        Entries = entries;
        _entries = entries.ToDictionary(e => e.Key.Value ?? string.Empty, StringComparer.Ordinal);
    }

    /// <summary>The mapping node (or the empty value standing for it), for locations.</summary>
    public YamlNode Node { get; }

    /// <summary>Key path of the mapping, e.g. <c>policies.default</c>; empty at the root.</summary>
    public string Path { get; }

    /// <summary>The entries in file order; only allowed keys, each once.</summary>
    public IReadOnlyList<(YamlScalarNode Key, YamlNode Value)> Entries { get; }

    /// <summary>The value of <paramref name="key"/>, if present.</summary>
    public bool TryGet(string key, [MaybeNullWhen(false)] out YamlNode value)
    {
        if (_entries.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>Key path of <paramref name="key"/> in this mapping.</summary>
    public string PathOf(string key) => ConfigReader.Child(Path, key);
}
