namespace Sidecar.Telemetry;

/// <summary>The label of each <see cref="RequestOutcome"/>, as metrics, spans and problem responses spell it.</summary>
internal static class RequestOutcomes
{
    private static readonly string[] Labels =
    [
        "success", "success_after_retry", "exhausted", "deadline_exceeded", "budget_exhausted", "circuit_open",
        "not_retryable", "client_cancelled", "overloaded",
    ];

    /// <summary>Every label, in the order of <see cref="RequestOutcome"/>.</summary>
    public static IReadOnlyList<string> All => Labels;

    public static string Label(this RequestOutcome outcome) => Labels[(int)outcome];
}
