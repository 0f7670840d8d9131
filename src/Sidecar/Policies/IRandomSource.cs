namespace Sidecar.Policies;

/// <summary>The randomness jitter draws from; injected so tests can pin it (as Polly's <c>Randomizer</c>).</summary>
internal interface IRandomSource
{
    /// <summary>A uniformly distributed number in [0, 1).</summary>
    double NextDouble();
}
