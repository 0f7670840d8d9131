using Sidecar.Policies;

namespace Sidecar.Simulation;

/// <summary>The policy's jitter from a seeded generator, so a simulation is the same for a seed (single-threaded only).</summary>
internal sealed class SeededRandomSource : IRandomSource
{
    private readonly Random _random;

    public SeededRandomSource(int seed) => _random = new Random(seed);

    public double NextDouble() => _random.NextDouble();
}
