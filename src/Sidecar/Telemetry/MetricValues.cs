namespace Sidecar.Telemetry;

/// <summary>
/// Well-known tag values. Call sites may pass other strings; these are the ones README documents.
/// </summary>
internal static class MetricValues
{
    public const string Success = "success";
    public const string Failure = "failure";
}
