using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Typed, strict reads of YAML nodes that record a <see cref="ConfigError"/> for every problem instead of throwing.
/// Each read returns whether it succeeded; on failure the caller keeps its default and carries on, so one pass
/// finds every error in the file.
/// </summary>
internal sealed partial class ConfigReader
{
    /// <summary>
    /// The longest duration Sidecar accepts anywhere, one day: every configured duration is at most this, and every
    /// duration read from a header (<c>Retry-After</c>, pushback, the caller's deadline) is capped here, including
    /// values that would overflow. Timers (<c>CancelAfter</c>, <c>Task.Delay</c>) reject more than ~49 days, nothing a
    /// retry proxy waits for sensibly takes longer than a day, and a capped header never changes a decision ("wait
    /// longer than allowed" stays "longer than allowed").
    /// </summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(1);

    private const string YamlStringTag = "tag:yaml.org,2002:str";

    private readonly string _file;
    private readonly List<ConfigError> _errors;

    public ConfigReader(string file, List<ConfigError> errors)
    {
        _file = file;
        _errors = errors;
    }

    /// <summary>The file as the user named it.</summary>
    public string File => _file;

    /// <summary><c>a.b</c>, or <c>b</c> at the root.</summary>
    public static string Child(string path, string key) => path.Length == 0 ? key : path + "." + key;

    /// <summary><c>a[2]</c> (0-based).</summary>
    public static string Item(string path, int index) => path + "[" + index.ToString(CultureInfo.InvariantCulture) + "]";

    /// <summary>Records an error located at <paramref name="node"/>.</summary>
    public void Error(YamlNode node, string path, string message) => Error(node.Start, path, message);

    /// <summary>Records an error located at <paramref name="mark"/>.</summary>
    public void Error(Mark mark, string path, string message) =>
        _errors.Add(new ConfigError(_file, ToInt(mark.Line), ToInt(mark.Column), path, message));

    /// <summary><c>key:</c> with nothing after it, <c>~</c> or <c>null</c>.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: null or "" or "~" or "null" or "Null" or "NULL" } scalar
        && scalar.Tag.IsEmpty;

    /// <summary>
    /// Reads a mapping and reports keys that are not in <paramref name="allowedKeys"/> (with a suggestion) and keys
    /// that are not strings. An empty value (<c>key:</c>) reads as an empty mapping.
    /// </summary>
    public ConfigMapping? ReadMapping(YamlNode node, string path, IReadOnlyList<string> allowedKeys)
    {
        if (IsNull(node))
        {
            return new ConfigMapping(node, path, []);
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a mapping, got {Describe(node)}");
            return null;
        }

        var entries = new List<(YamlScalarNode, YamlNode)>(mapping.Children.Count);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } key } scalarKey)
            {
                Error(keyNode, path, $"keys must be plain strings, got {Describe(keyNode)}");
                continue;
            }

            if (!allowedKeys.Contains(key, StringComparer.Ordinal))
            {
                Error(keyNode, Child(path, key), UnknownMessage("key", key, allowedKeys, "allowed keys"));
                continue;
            }

            entries.Add((scalarKey, value));
        }

        return new ConfigMapping(node, path, entries);
    }

    /// <summary>
    /// Reads a mapping whose keys are names chosen by the user (<c>clusters:</c>, <c>policies:</c>), checking each
    /// name is usable as a metric label.
    /// </summary>
    public IReadOnlyList<(YamlScalarNode Key, YamlNode Value)>? ReadNamedMapping(YamlNode node, string path, string what)
    {
        if (IsNull(node))
        {
            return [];
        }

        if (node is not YamlMappingNode mapping)
        {
            Error(node, path, $"expected a mapping of {what} names to {what}s, got {Describe(node)}");
            return null;
        }

        var entries = new List<(YamlScalarNode, YamlNode)>(mapping.Children.Count);
        foreach (var (keyNode, value) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { } name } scalarKey)
            {
                Error(keyNode, path, $"{what} names must be plain strings, got {Describe(keyNode)}");
                continue;
            }

            if (!IsValidName(name))
            {
                Error(keyNode, Child(path, name), InvalidNameMessage(what, name));
                continue;
            }

            entries.Add((scalarKey, value));
        }

        return entries;
    }

    /// <summary>Reads a list; an empty value reads as an empty list.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)>? ReadSequence(YamlNode node, string path)
    {
        if (IsNull(node))
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            Error(node, path, $"expected a list, got {Describe(node)}");
            return null;
        }

        return sequence.Children.Select((item, index) => (item, Item(path, index))).ToList();
    }

    /// <summary>Reads <paramref name="key"/> of <paramref name="map"/> with <paramref name="read"/>, or <paramref name="fallback"/> when absent or invalid.</summary>
    public T Optional<T>(ConfigMapping map, string key, T fallback, ValueReader<T> read) =>
        map.TryGet(key, out var node) && read(node, map.PathOf(key), out var value) ? value : fallback;

    /// <summary>An integer in <paramref name="min"/>..<paramref name="max"/>.</summary>
    public int Int(ConfigMapping map, string key, int fallback, int min, int max = int.MaxValue)
    {
        if (!map.TryGet(key, out var node) || !TryReadInt(node, map.PathOf(key), out var value))
        {
            return fallback;
        }

        if (value < min || value > max)
        {
            Error(node, map.PathOf(key), max == int.MaxValue
                ? $"must be at least {min}, got {value}"
                : $"must be between {min} and {max}, got {value}");
            return fallback;
        }

        return value;
    }

    /// <summary>A number in <paramref name="min"/>..<paramref name="max"/>, optionally excluding <paramref name="min"/>.</summary>
    public double Double(ConfigMapping map, string key, double fallback, double min, double max, bool minExclusive = false)
    {
        if (!map.TryGet(key, out var node) || !TryReadDouble(node, map.PathOf(key), out var value))
        {
            return fallback;
        }

        if ((minExclusive ? value <= min : value < min) || value > max)
        {
            var range = double.IsPositiveInfinity(max)
                ? (minExclusive ? $"greater than {Invariant(min)}" : $"at least {Invariant(min)}")
                : (minExclusive ? $"greater than {Invariant(min)} and at most {Invariant(max)}" : $"between {Invariant(min)} and {Invariant(max)}");
            Error(node, map.PathOf(key), $"must be {range}, got {Invariant(value)}");
            return fallback;
        }

        return value;
    }

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public bool Bool(ConfigMapping map, string key, bool fallback) => Optional<bool>(map, key, fallback, TryReadBool);

    /// <summary>A duration in (0, <paramref name="max"/>], or [0, max] with <paramref name="allowZero"/>.</summary>
    public TimeSpan Duration(ConfigMapping map, string key, TimeSpan fallback, TimeSpan max, bool allowZero = false) =>
        OptionalDuration(map, key, max, allowZero) ?? fallback;

    /// <summary>A duration in (0, <paramref name="max"/>], or <c>null</c> when absent or invalid.</summary>
    public TimeSpan? OptionalDuration(ConfigMapping map, string key, TimeSpan max, bool allowZero = false)
    {
        if (!map.TryGet(key, out var node) || !TryReadDuration(node, map.PathOf(key), out var value))
        {
            return null;
        }

        if (value == TimeSpan.Zero && !allowZero)
        {
            Error(node, map.PathOf(key), "must be greater than zero");
            return null;
        }

        if (value > max)
        {
            Error(node, map.PathOf(key), $"must be at most {DurationParser.Format(max)}, got {DurationParser.Format(value)}");
            return null;
        }

        return value;
    }

    /// <summary>A size in bytes.</summary>
    public long Size(ConfigMapping map, string key, long fallback) => Optional<long>(map, key, fallback, TryReadSize);

    /// <summary>A non-empty string, or <c>null</c> when absent or invalid.</summary>
    public string? String(ConfigMapping map, string key) =>
        map.TryGet(key, out var node) && TryReadString(node, map.PathOf(key), out var value) ? value : null;

    /// <summary>Binds the mapping under <paramref name="key"/> with <paramref name="bind"/>; <c>null</c> when absent or not a valid mapping.</summary>
    public T? ReadChild<T>(ConfigMapping parent, string key, IReadOnlyList<string> allowedKeys, Func<ConfigMapping, T?> bind)
        where T : class =>
        parent.TryGet(key, out var node) && ReadMapping(node, parent.PathOf(key), allowedKeys) is { } map ? bind(map) : null;

    /// <summary>The strings of a sequence, skipping (and reporting) items that are not strings.</summary>
    public List<string> ReadStringList(YamlNode node, string path)
    {
        var result = new List<string>();
        foreach (var (item, itemPath) in ReadSequence(node, path) ?? [])
        {
            if (TryReadString(item, itemPath, out var value))
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>Binds each item of a sequence with <paramref name="bind"/>, keeping those that bound.</summary>
    public List<T> ReadList<T>(YamlNode node, string path, Func<YamlNode, string, T?> bind)
        where T : class
    {
        var result = new List<T>();
        foreach (var (item, itemPath) in ReadSequence(node, path) ?? [])
        {
            if (bind(item, itemPath) is { } value)
            {
                result.Add(value);
            }
        }

        return result;
    }

    /// <summary>Reports <paramref name="key"/> missing from <paramref name="map"/>; returns whether it is present.</summary>
    public bool Require(ConfigMapping map, string key)
    {
        if (map.TryGet(key, out _))
        {
            return true;
        }

        Error(map.Node, map.PathOf(key), $"missing required key '{key}'");
        return false;
    }

    /// <summary>Cluster, policy and route names become metric labels and log fields: keep them short and plain.</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 128
        && char.IsAsciiLetterOrDigit(name[0])
        && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    /// <summary>The message for a name rejected by <see cref="IsValidName"/>.</summary>
    public static string InvalidNameMessage(string what, string name) =>
        $"invalid {what} name '{name}': use 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit";

    /// <summary><c>unknown key 'x' (did you mean 'y'?); allowed keys: a, b</c>.</summary>
    public static string UnknownMessage(string what, string value, IReadOnlyCollection<string> allowed, string allowedLabel) =>
        $"unknown {what} '{value}'{Spelling.DidYouMean(value, allowed)}; {allowedLabel}: {string.Join(", ", allowed)}";

    /// <summary>Short description of a node for "expected X, got Y" messages.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        _ when IsNull(node) => "an empty value",
        YamlScalarNode { Style: ScalarStyle.Plain } scalar => $"'{scalar.Value}'",
        YamlScalarNode scalar => $"the string '{scalar.Value}'",
        _ => "an unsupported node",
    };

    private static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static int ToInt(long value) => (int)Math.Clamp(value, 0, int.MaxValue);
}
