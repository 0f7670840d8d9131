namespace Sidecar.Overload;

/// <summary>One sample of memory pressure: <see cref="UsedBytes"/> of <see cref="LimitBytes"/> in use.</summary>
/// <param name="UsedBytes">Bytes in use of the measure that is closest to its limit.</param>
/// <param name="LimitBytes">The limit of that measure; going past it is fatal or close to it.</param>
internal readonly record struct MemoryPressure(long UsedBytes, long LimitBytes)
{
    /// <summary>The pressure as a fraction of the limit: 0 is empty, 1 is at the limit.</summary>
    public double Ratio => LimitBytes > 0 ? (double)UsedBytes / LimitBytes : 0;
}
