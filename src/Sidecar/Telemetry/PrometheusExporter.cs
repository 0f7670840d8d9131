using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sidecar.Telemetry;

/// <summary>
/// Aggregates the measurements of the <see cref="SidecarMetrics.MeterName"/> meter and renders them in
/// the Prometheus text format 0.0.4 (valid for <c>promtool check metrics</c>).
/// </summary>
/// <remarks>
/// <para>
/// 1. A <see cref="MeterListener"/> enables every instrument of the meter (and only that meter) and
///    maps it to a <see cref="MetricFamily"/> named by <see cref="PrometheusNaming"/>.
/// 2. Each measurement finds its series by tag set (<see cref="SeriesMap{TSeries}"/>) and updates it
///    with interlocked operations: no lock, and no allocation once the series exists.
/// 3. <see cref="WriteTo(IBufferWriter{byte})"/> snapshots the families, sorted by name, and their
///    series, sorted by labels. Series never recorded are not written; the ones alerts depend on are
///    recorded at 0 by <see cref="SidecarMetrics"/> when it is created.
/// </para>
/// <para>
/// Measurements made before the exporter exists are not seen, so it must be created before
/// <see cref="SidecarMetrics"/> (<see cref="TelemetryServiceCollectionExtensions.AddSidecarTelemetry"/> does).
/// </para>
/// </remarks>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultHistogramBounds =
        [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private readonly MeterListener _listener;
    private readonly string _meterName;
    private readonly object? _scope;

    /// <summary>Exports the <see cref="SidecarMetrics.MeterName"/> meter created by <paramref name="meterFactory"/>.</summary>
    public PrometheusExporter(IMeterFactory meterFactory)
        : this(SidecarMetrics.MeterName, meterFactory)
    {
    }

    /// <summary>
    /// Exports the meter named <paramref name="meterName"/>; when <paramref name="scope"/> is not null,
    /// only the one whose <see cref="Meter.Scope"/> it is (an <see cref="IMeterFactory"/> scopes the
    /// meters it creates, so two service providers in one process do not mix their series).
    /// </summary>
    public PrometheusExporter(string meterName, object? scope)
    {
        ArgumentNullException.ThrowIfNull(meterName);
        _meterName = meterName;
        _scope = scope;
        _listener = new MeterListener { InstrumentPublished = OnInstrumentPublished };
        _listener.SetMeasurementEventCallback<byte>(static (_, value, tags, state) => ((MetricFamily)state!).Record((long)value, tags));
        _listener.SetMeasurementEventCallback<short>(static (_, value, tags, state) => ((MetricFamily)state!).Record((long)value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((MetricFamily)state!).Record((long)value, tags));
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<float>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((MetricFamily)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<decimal>(static (_, value, tags, state) => ((MetricFamily)state!).Record((double)value, tags));
        _listener.Start();
    }

    /// <summary>The media type of <see cref="WriteTo(IBufferWriter{byte})"/>'s output.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Renders every family with at least one series as UTF-8 Prometheus text.</summary>
    public void WriteTo(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _listener.RecordObservableInstruments();

        var families = _families.Values.ToArray();
        Array.Sort(families, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var writer = new PrometheusTextWriter(output);
        foreach (var family in families)
        {
            if (!family.IsEmpty)
            {
                family.WriteTo(writer);
            }
        }
    }

    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        WriteTo(buffer);
        stream.Write(buffer.WrittenSpan);
    }

    public void Dispose() => _listener.Dispose();

    private void OnInstrumentPublished(Instrument instrument, MeterListener listener)
    {
        var meter = instrument.Meter;
        if (!string.Equals(meter.Name, _meterName, StringComparison.Ordinal)
            || (_scope is not null && !ReferenceEquals(meter.Scope, _scope)))
        {
            return;
        }

        var candidate = CreateFamily(instrument);
        if (candidate is null)
        {
            return;
        }

        // Two instruments that map to one name share the family if they agree on its type;
        // otherwise the later one is not exported rather than corrupting the output.
        var family = _families.GetOrAdd(candidate.Name, candidate);
        if (string.Equals(family.Type, candidate.Type, StringComparison.Ordinal))
        {
            listener.EnableMeasurementEvents(instrument, family);
        }
    }

    private static MetricFamily? CreateFamily(Instrument instrument)
    {
        if (!instrument.GetType().IsGenericType)
        {
            return null;
        }

        var kind = instrument.GetType().GetGenericTypeDefinition();
        var help = instrument.Description;
        if (kind == typeof(Counter<>) || kind == typeof(ObservableCounter<>))
        {
            var name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, isCounter: true);
            return new SumMetricFamily(name, help, monotonic: true, additive: !instrument.IsObservable);
        }

        if (kind == typeof(UpDownCounter<>) || kind == typeof(ObservableUpDownCounter<>)
            || kind == typeof(ObservableGauge<>) || kind == typeof(Gauge<>))
        {
            var name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, isCounter: false);
            return new SumMetricFamily(name, help, monotonic: false, additive: kind == typeof(UpDownCounter<>));
        }

        if (kind == typeof(Histogram<>))
        {
            var name = PrometheusNaming.MetricName(instrument.Name, instrument.Unit, isCounter: false);
            return new HistogramMetricFamily(name, help, HistogramBounds(instrument) ?? DefaultHistogramBounds);
        }

        return null;
    }

    private static IReadOnlyList<double>? HistogramBounds(Instrument instrument) => instrument switch
    {
        Histogram<double> h => h.Advice?.HistogramBucketBoundaries,
        Histogram<float> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        Histogram<long> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        Histogram<int> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        Histogram<short> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        Histogram<byte> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        Histogram<decimal> h => ToDoubles(h.Advice?.HistogramBucketBoundaries),
        _ => null,
    };

    private static double[]? ToDoubles<T>(IReadOnlyList<T>? bounds)
        where T : struct, IConvertible
    {
        if (bounds is null)
        {
            return null;
        }

        var result = new double[bounds.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = bounds[i].ToDouble(System.Globalization.CultureInfo.InvariantCulture);
        }

        return result;
    }
}
