namespace Sidecar.Configuration;

/// <summary>The keys of <c>policies.&lt;name&gt;.backoff</c>.</summary>
internal static class BackoffKeys
{
    public const string Algorithm = "algorithm";
    public const string Base = "base";
    public const string Max = "max";
    public const string Multiplier = "multiplier";
    public const string Jitter = "jitter";
    public const string JitterFactor = "jitter_factor";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Algorithm, Base, Max, Multiplier, Jitter, JitterFactor];
}
