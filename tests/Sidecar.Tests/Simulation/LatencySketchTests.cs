using Sidecar.Simulation;

namespace Sidecar.Tests.Simulation;

public sealed class LatencySketchTests
{
    [Theory]
    [InlineData(50, 5_000)]
    [InlineData(99, 9_900)]
    [InlineData(100, 10_000)]
    public void Percentile_UniformMicroseconds_WithinTheBucketPrecision(double percentile, double expectedMicros)
    {
        var sketch = new LatencySketch();
        for (var micros = 1; micros <= 10_000; micros++)
        {
            sketch.Add(TimeSpan.FromMicroseconds(micros));
        }

        var value = sketch.Percentile(percentile)!.Value.TotalMicroseconds;

        Assert.InRange(value, expectedMicros * 0.97, expectedMicros * 1.03);
        Assert.Equal(10_000, sketch.Count);
    }

    [Fact]
    public void Percentile_FixedValue_IsThatValue()
    {
        var sketch = new LatencySketch();
        sketch.Add(TimeSpan.FromMilliseconds(1));
        sketch.Add(TimeSpan.FromMilliseconds(1));

        Assert.Equal(TimeSpan.FromMilliseconds(1), sketch.Percentile(50));
    }

    [Fact]
    public void Percentile_Empty_IsNull() => Assert.Null(new LatencySketch().Percentile(50));
}
