namespace Sidecar.Demo;

/// <summary>Percentiles by the nearest-rank method: the smallest sample with at least p% of the samples at or below it.</summary>
internal static class Percentiles
{
    /// <summary>The <paramref name="percentile"/> (0 &lt; p ≤ 100) of ascending <paramref name="sorted"/>; <c>null</c> when there are no samples.</summary>
    public static TimeSpan? NearestRank(IReadOnlyList<TimeSpan> sorted, double percentile)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(percentile);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percentile, 100);
        if (sorted.Count == 0)
        {
            return null;
        }

        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Count);
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }
}
