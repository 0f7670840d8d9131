namespace Sidecar.Simulation;

/// <summary>
/// Latencies counted in log-linear buckets (HdrHistogram's layout: 64 sub-buckets per power of two of microseconds,
/// so a percentile is within 3% of the true value) in a fixed 40 KB, however many calls a run makes.
/// </summary>
internal sealed class LatencySketch
{
    private const int SubBucketBits = 6;
    private const int SubBuckets = 1 << SubBucketBits;
    private const int Magnitudes = 40;

    private readonly long[] _counts = new long[Magnitudes * SubBuckets];
    private readonly long[] _sums = new long[Magnitudes * SubBuckets];

    public long Count { get; private set; }

    public void Add(TimeSpan latency)
    {
        var micros = Math.Max(0, latency.Ticks / TimeSpan.TicksPerMicrosecond);
        var index = Index(micros);
        _counts[index]++;
        _sums[index] += micros;
        Count++;
    }

    /// <summary>
    /// The <paramref name="percentile"/> (0 &lt; p ≤ 100) by nearest rank, as the mean of the values in its bucket
    /// (exact when they are all one value, as with a fixed latency); null when empty.
    /// </summary>
    public TimeSpan? Percentile(double percentile)
    {
        if (Count == 0)
        {
            return null;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return TimeSpan.FromTicks(_sums[i] * TimeSpan.TicksPerMicrosecond / _counts[i]);
            }
        }

        return null;
    }

    private static int Index(long micros)
    {
        if (micros < SubBuckets)
        {
            return (int)micros;
        }

        var magnitude = 63 - (int)long.LeadingZeroCount(micros) - (SubBucketBits - 1);
        var sub = (int)(micros >> magnitude) - (SubBuckets / 2);
        return Math.Min((magnitude * (SubBuckets / 2)) + SubBuckets / 2 + sub, (Magnitudes * SubBuckets) - 1);
    }
}
