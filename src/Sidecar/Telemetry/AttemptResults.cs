using Sidecar.Http;

namespace Sidecar.Telemetry;

/// <summary>The label of each <see cref="AttemptResult"/>, as metrics and spans spell it.</summary>
internal static class AttemptResults
{
    // The status classes are StatusClass's labels, in its order; the failures share the retry reasons' spellings.
    private static readonly string[] Labels =
        [.. StatusClass.All, RetryReason.ConnectFailure, RetryReason.Reset, RetryReason.PerTryTimeout, "invalid_response", "error", "cancelled", RetryReason.Tls];

    /// <summary>Every label, in the order of <see cref="AttemptResult"/>.</summary>
    public static IReadOnlyList<string> All => Labels;

    public static string Label(this AttemptResult result) => Labels[(int)result];

    /// <summary>The result of an attempt answered with <paramref name="status"/>: its class, as <see cref="StatusClass.Of"/> labels it.</summary>
    public static AttemptResult OfStatus(int status) =>
        status is >= 100 and <= 599 ? (AttemptResult)((status / 100) - 1) : AttemptResult.OtherStatus;
}
