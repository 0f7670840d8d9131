namespace Sidecar.Telemetry;

/// <summary>
/// Lets a <see cref="System.Collections.Concurrent.ConcurrentDictionary{TKey, TValue}"/> keyed by
/// <see cref="TagSet"/> be searched with the tag span a measurement arrives with, without building a key.
/// </summary>
internal sealed class TagSetComparer :
    IEqualityComparer<TagSet>,
    IAlternateEqualityComparer<ReadOnlySpan<KeyValuePair<string, object?>>, TagSet>
{
    public static readonly TagSetComparer Instance = new();

    public bool Equals(TagSet? x, TagSet? y) => x is null ? y is null : y is not null && x.Matches(y);

    public int GetHashCode(TagSet obj) => obj.HashCode;

    public bool Equals(ReadOnlySpan<KeyValuePair<string, object?>> alternate, TagSet other) => other.Matches(alternate);

    public int GetHashCode(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.ComputeHashCode(alternate);

    public TagSet Create(ReadOnlySpan<KeyValuePair<string, object?>> alternate) => TagSet.Create(alternate);
}
