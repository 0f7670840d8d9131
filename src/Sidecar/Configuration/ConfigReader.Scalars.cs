using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>The scalar reads of <see cref="ConfigReader"/>: strings, numbers, booleans, durations, sizes and names from a closed list.</summary>
internal sealed partial class ConfigReader
{
    /// <summary>A non-empty string scalar (any style).</summary>
    public bool TryReadString(YamlNode node, string path, [NotNullWhen(true)] out string? value)
    {
        value = null;
        if (IsNull(node))
        {
            Error(node, path, "missing value");
            return false;
        }

        if (node is not YamlScalarNode { Value: { } text })
        {
            Error(node, path, $"expected a string, got {Describe(node)}");
            return false;
        }

        if (text.Length == 0)
        {
            Error(node, path, "must not be empty");
            return false;
        }

        value = text;
        return true;
    }

    /// <summary>An unquoted integer; quoted <c>"3"</c> is a string in YAML and rejected.</summary>
    public bool TryReadInt(YamlNode node, string path, out int value)
    {
        value = 0;
        if (!TryReadPlain(node, path, "an integer", out var text))
        {
            return false;
        }

        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            Error(node, path, long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
                ? $"{text} is out of range"
                : $"expected an integer, got '{text}'");
            return false;
        }

        return true;
    }

    /// <summary>An unquoted finite number such as <c>2</c>, <c>0.2</c> or <c>1e-3</c>.</summary>
    public bool TryReadDouble(YamlNode node, string path, out double value)
    {
        value = 0;
        if (!TryReadPlain(node, path, "a number", out var text))
        {
            return false;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) || !double.IsFinite(value))
        {
            Error(node, path, $"expected a number, got '{text}'");
            return false;
        }

        return true;
    }

    /// <summary>An unquoted <c>true</c> or <c>false</c> (YAML 1.2); YAML 1.1's <c>yes</c>/<c>on</c> are rejected as ambiguous.</summary>
    public bool TryReadBool(YamlNode node, string path, out bool value)
    {
        value = false;
        if (!TryReadPlain(node, path, "true or false", out var text))
        {
            return false;
        }

        switch (text)
        {
            case "true" or "True" or "TRUE":
                value = true;
                return true;
            case "false" or "False" or "FALSE":
                return true;
            default:
                Error(node, path, $"expected true or false, got '{text}'");
                return false;
        }
    }

    /// <summary>A duration such as <c>250ms</c>; see <see cref="DurationParser"/>.</summary>
    public bool TryReadDuration(YamlNode node, string path, out TimeSpan value)
    {
        value = default;
        if (!TryReadScalarText(node, path, "a duration such as '250ms' or '2s'", out var text))
        {
            return false;
        }

        if (!DurationParser.TryParse(text, out value, out var error))
        {
            Error(node, path, error);
            return false;
        }

        return true;
    }

    /// <summary>A size such as <c>64KiB</c>; see <see cref="SizeParser"/>.</summary>
    public bool TryReadSize(YamlNode node, string path, out long value)
    {
        value = 0;
        if (!TryReadScalarText(node, path, "a size such as '64KiB'", out var text))
        {
            return false;
        }

        if (!SizeParser.TryParse(text, out value, out var error))
        {
            Error(node, path, error);
            return false;
        }

        return true;
    }

    /// <summary>One of <paramref name="names"/> (exact spelling), with a suggestion when it is close to one.</summary>
    public bool TryReadEnum<T>(YamlNode node, string path, string what, IReadOnlyList<(string Name, T Value)> names, out T value)
    {
        value = default!;
        if (!TryReadString(node, path, out var text))
        {
            return false;
        }

        foreach (var (name, candidate) in names)
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        Error(node, path, UnknownMessage(what, text, names.Select(n => n.Name).ToList(), "allowed"));
        return false;
    }

    private bool TryReadPlain(YamlNode node, string path, string expected, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (IsNull(node))
        {
            Error(node, path, $"missing value, expected {expected}");
            return false;
        }

        if (node is not YamlScalarNode { Value: { } value } scalar)
        {
            Error(node, path, $"expected {expected}, got {Describe(node)}");
            return false;
        }

        if (scalar.Style != ScalarStyle.Plain || (!scalar.Tag.IsEmpty && scalar.Tag.Value == YamlStringTag))
        {
            Error(node, path, $"expected {expected}, got the string '{value}' (remove the quotes)");
            return false;
        }

        text = value;
        return true;
    }

    private bool TryReadScalarText(YamlNode node, string path, string expected, [NotNullWhen(true)] out string? text)
    {
        text = null;
        if (IsNull(node))
        {
            Error(node, path, $"missing value, expected {expected}");
            return false;
        }

        if (node is not YamlScalarNode { Value: { } value })
        {
            Error(node, path, $"expected {expected}, got {Describe(node)}");
            return false;
        }

        text = value;
        return true;
    }
}
