namespace Sidecar.Telemetry;

/// <summary>
/// Tag (Prometheus label) names used by <see cref="SidecarMetrics"/>. Every value is bounded:
/// route, cluster and policy names come from the configuration, never from a raw request path; the method is a
/// known one or <c>_OTHER</c> (<see cref="HttpMethodLabel"/>); status codes appear only as classes.
/// </summary>
internal static class MetricTags
{
    public const string Route = "route";
    public const string Cluster = "cluster";
    public const string Policy = "policy";
    public const string Method = "method";
    public const string Outcome = "outcome";
    public const string StatusClass = "status_class";
    public const string Result = "result";
    public const string Reason = "reason";
    public const string Action = "action";

    /// <summary>The listener a certificate belongs to (<c>proxy</c>); a cluster's certificates carry <see cref="Cluster"/> instead.</summary>
    public const string Listener = "listener";

    /// <summary>Which certificate of a TLS endpoint: <c>certificate</c> (its own) or <c>ca</c> (the earliest-expiring CA it trusts).</summary>
    public const string Kind = "kind";

    /// <summary>A gRPC call's final status, one of 17 names (<c>ok</c>, <c>unavailable</c>, ...); only on gRPC calls.</summary>
    public const string GrpcStatus = "grpc_status";
}
