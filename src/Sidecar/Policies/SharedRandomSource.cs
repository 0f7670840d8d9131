namespace Sidecar.Policies;

/// <summary>Production <see cref="IRandomSource"/> over <see cref="Random.Shared"/>: thread-safe, no lock, no allocation.</summary>
internal sealed class SharedRandomSource : IRandomSource
{
    /// <summary>The process-wide instance; the type holds no state of its own.</summary>
    public static SharedRandomSource Instance { get; } = new();

    /// <inheritdoc/>
    public double NextDouble() => Random.Shared.NextDouble();
}
