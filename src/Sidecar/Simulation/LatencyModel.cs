using System.Globalization;
using Sidecar.Configuration;

namespace Sidecar.Simulation;

/// <summary>
/// The upstream's answer time: fixed (<c>20ms</c>), or log-normal through a median and a p99
/// (<c>p50=20ms,p99=300ms</c>), the usual shape of service latency: most answers near the median, a long right tail.
/// </summary>
internal sealed record LatencyModel
{
    // The 99th percentile of the standard normal distribution.
    private const double Z99 = 2.3263478740408408;

    private LatencyModel(TimeSpan median, TimeSpan p99)
    {
        Median = median;
        P99 = p99;
    }

    public TimeSpan Median { get; }

    public TimeSpan P99 { get; }

    public static LatencyModel Fixed(TimeSpan value) => new(value, value);

    /// <summary>As <c>--latency</c> takes it (help shows the default so).</summary>
    public override string ToString() => P99 <= Median
        ? DurationParser.Format(Median)
        : "p50=" + DurationParser.Format(Median) + ",p99=" + DurationParser.Format(P99);

    /// <summary>A draw from the distribution, given two uniform draws in [0, 1).</summary>
    public TimeSpan Sample(double u1, double u2)
    {
        if (P99 <= Median)
        {
            return Median;
        }

        // Box-Muller: one standard normal draw from two uniform ones.
        var normal = Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
        var sigma = Math.Log(P99.TotalSeconds / Median.TotalSeconds) / Z99;
        return TimeSpan.FromTicks((long)(Median.Ticks * Math.Exp(sigma * normal)));
    }

    public static bool TryParse(string text, out LatencyModel? model, out string? error)
    {
        model = null;
        if (!text.Contains('=', StringComparison.Ordinal))
        {
            if (!DurationParser.TryParse(text, out var value, out error))
            {
                return false;
            }

            model = Fixed(value);
            return true;
        }

        TimeSpan? median = null;
        TimeSpan? p99 = null;
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            if (equals < 0 || !DurationParser.TryParse(part[(equals + 1)..], out var value, out var durationError))
            {
                error = string.Create(CultureInfo.InvariantCulture, $"'{part}' is not p50=<duration> or p99=<duration>");
                return false;
            }

            switch (name)
            {
                case "p50":
                    median = value;
                    break;
                case "p99":
                    p99 = value;
                    break;
                default:
                    error = $"'{name}' is not p50 or p99";
                    return false;
            }
        }

        if (median is not { } m || m <= TimeSpan.Zero)
        {
            error = "p50 must be given and above 0";
            return false;
        }

        if (p99 is { } high && high < m)
        {
            error = "p99 must not be below p50";
            return false;
        }

        model = new LatencyModel(m, p99 ?? m);
        error = null;
        return true;
    }
}
