namespace Sidecar.FunctionalTests.Logging;

/// <summary>
/// The failure storms of <see cref="LogVolumeTests"/> run alone, after the parallel tests: on a small machine they
/// would otherwise starve other tests' processes of the CPU they need to start within their bounds.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LogVolumeCollection
{
    public const string Name = "Log volume";
}
