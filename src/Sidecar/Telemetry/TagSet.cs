using System.Globalization;
using System.Text;

namespace Sidecar.Telemetry;

/// <summary>
/// The tags of one time series, sorted by name, with their rendered Prometheus labels. Created once
/// per series; measurements find their series by comparing the caller's tag span against it
/// (<see cref="TagSetComparer"/>), which allocates nothing.
/// </summary>
internal sealed class TagSet
{
    public static readonly TagSet Empty = new([]);

    private readonly KeyValuePair<string, object?>[] _tags;

    private TagSet(KeyValuePair<string, object?>[] tags)
    {
        _tags = tags;
        HashCode = ComputeHashCode(tags);
        Labels = RenderLabels(tags);
    }

    public int HashCode { get; }

    /// <summary>The label pairs without braces, e.g. <c>reason="503",route="orders"</c>; empty without tags.</summary>
    public string Labels { get; }

    public static TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.IsEmpty)
        {
            return Empty;
        }

        var copy = tags.ToArray();
        Array.Sort(copy, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        return new TagSet(copy);
    }

    public static int ComputeHashCode(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        // Order-independent: the same tags given in another order are the same series.
        var hash = 0;
        foreach (var tag in tags)
        {
            hash += System.HashCode.Combine(StringComparer.Ordinal.GetHashCode(tag.Key), tag.Value?.GetHashCode() ?? 0);
        }

        return hash;
    }

    public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length != _tags.Length)
        {
            return false;
        }

        foreach (var tag in tags)
        {
            if (!Contains(tag))
            {
                return false;
            }
        }

        return true;
    }

    public bool Matches(TagSet other) => ReferenceEquals(this, other) || Matches(other._tags);

    private bool Contains(KeyValuePair<string, object?> tag)
    {
        foreach (var own in _tags)
        {
            if (string.Equals(own.Key, tag.Key, StringComparison.Ordinal))
            {
                return Equals(own.Value, tag.Value);
            }
        }

        return false;
    }

    private static string RenderLabels(KeyValuePair<string, object?>[] tags)
    {
        var builder = new StringBuilder();
        foreach (var tag in tags)
        {
            if (builder.Length > 0)
            {
                builder.Append(',');
            }

            builder.Append(PrometheusNaming.LabelName(tag.Key)).Append("=\"");
            PrometheusTextWriter.AppendEscapedLabelValue(builder, FormatValue(tag.Value));
            builder.Append('"');
        }

        return builder.ToString();
    }

    private static string FormatValue(object? value) => value switch
    {
        null => string.Empty,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
