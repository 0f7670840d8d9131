using Sidecar.Grpc;

namespace Sidecar.Telemetry;

/// <summary>
/// The <c>reason</c> label of <c>sidecar_retries_total</c> for failures without a status code; a retry on a gRPC status
/// is <c>grpc_</c> and the status's name (<see cref="GrpcStatus.RetryReason"/>).
/// </summary>
internal static class RetryReason
{
    public const string ConnectFailure = "connect_failure";
    public const string Reset = "reset";
    public const string PerTryTimeout = "per_try_timeout";
    public const string Tls = "tls";
    public const string Validation = "validation";
    public const string Header = "header";
    public const string Hedge = "hedge";

    /// <summary>Every named reason, gRPC's included, in a fixed order that the route summaries' counters follow.</summary>
    public static IReadOnlyList<string> Named { get; } = [ConnectFailure, Reset, PerTryTimeout, Validation, Header, Hedge, Tls, .. GrpcStatus.RetryReasons];
}
