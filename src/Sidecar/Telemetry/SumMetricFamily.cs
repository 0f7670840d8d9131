namespace Sidecar.Telemetry;

/// <summary>
/// A counter (monotonic sum, <c>_total</c>) or a gauge (up-down counter, or a last value).
/// Additive families add each measurement; the others (observable instruments and
/// <see cref="System.Diagnostics.Metrics.Gauge{T}"/>) keep the last value reported.
/// </summary>
internal sealed class SumMetricFamily : MetricFamily
{
    private readonly SeriesMap<Series> _series = new(static () => new Series());
    private readonly bool _additive;
    private readonly bool _monotonic;

    public SumMetricFamily(string name, string? help, bool monotonic, bool additive)
        : base(name, help, monotonic ? "counter" : "gauge")
    {
        _monotonic = monotonic;
        _additive = additive;
    }

    public override bool IsEmpty => _series.IsEmpty;

    public override void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_monotonic && _additive && value < 0)
        {
            return;
        }

        var series = _series.Get(tags);
        if (_additive)
        {
            series.Add(value);
        }
        else
        {
            series.Set(value);
        }
    }

    public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (double.IsNaN(value) || (_monotonic && _additive && value < 0))
        {
            return;
        }

        var series = _series.Get(tags);
        if (_additive)
        {
            series.Add(value);
        }
        else
        {
            series.Set(value);
        }
    }

    protected override void WriteSeries(PrometheusTextWriter writer)
    {
        foreach (var (tags, series) in _series.Snapshot())
        {
            writer.WriteSeriesStart(Name, tags.Labels);
            series.WriteValue(writer);
        }
    }

    private sealed class Series
    {
        // Integer and floating-point parts are kept apart so that long counters stay exact.
        private long _integer;
        private double _floating;

        public void Add(long value) => Interlocked.Add(ref _integer, value);

        public void Add(double value)
        {
            var current = Volatile.Read(ref _floating);
            while (true)
            {
                var seen = Interlocked.CompareExchange(ref _floating, current + value, current);
                if (seen.Equals(current))
                {
                    return;
                }

                current = seen;
            }
        }

        public void Set(long value)
        {
            Volatile.Write(ref _floating, 0);
            Volatile.Write(ref _integer, value);
        }

        public void Set(double value)
        {
            Volatile.Write(ref _integer, 0);
            Volatile.Write(ref _floating, value);
        }

        public void WriteValue(PrometheusTextWriter writer)
        {
            var integer = Interlocked.Read(ref _integer);
            var floating = Volatile.Read(ref _floating);
            if (floating == 0)
            {
                writer.WriteValue(integer);
            }
            else
            {
                writer.WriteValue(integer + floating);
            }
        }
    }
}
