using System.Collections.Concurrent;

namespace Sidecar.Telemetry;

/// <summary>
/// The series of one metric family, keyed by tag set. Once a series exists, finding it for a
/// measurement is a lock-free lookup that allocates nothing.
/// </summary>
internal sealed class SeriesMap<TSeries>
    where TSeries : class
{
    private readonly ConcurrentDictionary<TagSet, TSeries> _series = new(TagSetComparer.Instance);
    private readonly ConcurrentDictionary<TagSet, TSeries>.AlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>> _lookup;
    private readonly Func<TSeries> _factory;

    public SeriesMap(Func<TSeries> factory)
    {
        _factory = factory;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<KeyValuePair<string, object?>>>();
    }

    public bool IsEmpty => _series.IsEmpty;

    public TSeries Get(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_lookup.TryGetValue(tags, out var series))
        {
            return series;
        }

        return Add(tags);
    }

    /// <summary>A snapshot of the series, sorted by their labels so that the output is stable.</summary>
    public KeyValuePair<TagSet, TSeries>[] Snapshot()
    {
        var snapshot = _series.ToArray();
        Array.Sort(snapshot, static (a, b) => string.CompareOrdinal(a.Key.Labels, b.Key.Labels));
        return snapshot;
    }

    private TSeries Add(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var created = _factory();
        if (_lookup.TryAdd(tags, created))
        {
            return created;
        }

        return _lookup.TryGetValue(tags, out var existing) ? existing : created;
    }
}
