namespace Sidecar.Telemetry;

/// <summary>
/// A histogram: per series a count per bucket, rendered cumulatively with <c>le</c> labels, plus
/// <c>_sum</c> and <c>_count</c>. Bucket <c>i</c> counts values <c>bounds[i-1] &lt; v &lt;= bounds[i]</c>
/// (Prometheus buckets are inclusive upper bounds); the last one is <c>+Inf</c>.
/// </summary>
internal sealed class HistogramMetricFamily : MetricFamily
{
    private readonly double[] _bounds;
    private readonly string[] _boundLabels;
    private readonly SeriesMap<Series> _series;
    private readonly string _bucketName;
    private readonly string _sumName;
    private readonly string _countName;

    public HistogramMetricFamily(string name, string? help, IReadOnlyList<double> bounds)
        : base(name, help, "histogram")
    {
        _bounds = [.. bounds.Where(static b => !double.IsNaN(b) && !double.IsInfinity(b)).Distinct().Order()];
        _boundLabels = new string[_bounds.Length + 1];
        for (var i = 0; i < _bounds.Length; i++)
        {
            _boundLabels[i] = PrometheusTextWriter.FormatDouble(_bounds[i]);
        }

        _boundLabels[^1] = "+Inf";
        var bucketCount = _bounds.Length + 1;
        _series = new SeriesMap<Series>(() => new Series(bucketCount));
        _bucketName = name + "_bucket";
        _sumName = name + "_sum";
        _countName = name + "_count";
    }

    public override bool IsEmpty => _series.IsEmpty;

    public override void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags) => Record((double)value, tags);

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value))
        {
            return;
        }

        var bucket = Array.BinarySearch(_bounds, value);
        if (bucket < 0)
        {
            bucket = ~bucket;
        }

        _series.Get(tags).Record(bucket, value);
    }

    protected override void WriteSeries(PrometheusTextWriter writer)
    {
        var counts = new long[_bounds.Length + 1];
        foreach (var (tags, series) in _series.Snapshot())
        {
            var sum = series.Read(counts);
            long cumulative = 0;
            for (var i = 0; i < counts.Length; i++)
            {
                cumulative += counts[i];
                writer.WriteBucketStart(_bucketName, tags.Labels, _boundLabels[i]);
                writer.WriteValue(cumulative);
            }

            writer.WriteSeriesStart(_sumName, tags.Labels);
            writer.WriteValue(sum);

            // _count is the +Inf bucket read in the same pass, so the two always agree even while
            // measurements arrive during a scrape.
            writer.WriteSeriesStart(_countName, tags.Labels);
            writer.WriteValue(cumulative);
        }
    }

    private sealed class Series
    {
        private readonly long[] _buckets;
        private double _sum;

        public Series(int bucketCount)
        {
            _buckets = new long[bucketCount];
        }

        public void Record(int bucket, double value)
        {
            Interlocked.Increment(ref _buckets[bucket]);
            var current = Volatile.Read(ref _sum);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _sum, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }

        public double Read(long[] counts)
        {
            for (var i = 0; i < _buckets.Length; i++)
            {
                counts[i] = Interlocked.Read(ref _buckets[i]);
            }

            return Volatile.Read(ref _sum);
        }
    }
}
