namespace Sidecar.Telemetry;

/// <summary>
/// One Prometheus metric family (one <c># TYPE</c> block): the aggregated series of one instrument.
/// </summary>
internal abstract class MetricFamily
{
    protected MetricFamily(string name, string? help, string type)
    {
        Name = name;
        Help = help;
        Type = type;
    }

    /// <summary>The Prometheus name, e.g. <c>sidecar_requests_total</c>.</summary>
    public string Name { get; }

    public string? Help { get; }

    /// <summary><c>counter</c>, <c>gauge</c> or <c>histogram</c>.</summary>
    public string Type { get; }

    public abstract bool IsEmpty { get; }

    public abstract void Record(long value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

    public void WriteTo(PrometheusTextWriter writer)
    {
        writer.WriteHelpAndType(Name, Help, Type);
        WriteSeries(writer);
    }

    protected abstract void WriteSeries(PrometheusTextWriter writer);
}
