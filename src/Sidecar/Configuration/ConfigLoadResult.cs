namespace Sidecar.Configuration;

/// <summary>Either a valid snapshot or every error found; never both.</summary>
internal sealed record ConfigLoadResult(SidecarConfig? Config, IReadOnlyList<ConfigError> Errors)
{
    public bool Succeeded => Config is not null && Errors.Count == 0;
}
