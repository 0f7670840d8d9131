namespace Sidecar.Configuration;

/// <summary>The keys of each entry of <c>clusters</c>.</summary>
internal static class ClusterKeys
{
    public const string Destinations = "destinations";
    public const string LoadBalancing = "load_balancing";
    public const string Protocol = "protocol";
    public const string Health = "health";
    public const string CircuitBreaker = "circuit_breaker";
    public const string Tls = "tls";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Destinations, LoadBalancing, Protocol, Health, CircuitBreaker, Tls];

    /// <summary>The keys of <c>clusters.&lt;name&gt;.tls</c>.</summary>
    internal static class TlsKeys
    {
        public const string CaFile = "ca_file";
        public const string CertFile = "cert_file";
        public const string KeyFile = "key_file";
        public const string ServerName = "server_name";
        public const string MinVersion = "min_version";
        public const string InsecureSkipVerify = "insecure_skip_verify";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [CaFile, CertFile, KeyFile, ServerName, MinVersion, InsecureSkipVerify];
    }

    /// <summary>The keys of <c>clusters.&lt;name&gt;.health</c>.</summary>
    internal static class HealthKeys
    {
        public const string Passive = "passive";
        public const string ReactivationPeriod = "reactivation_period";
        public const string Active = "active";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Passive, ReactivationPeriod, Active];
    }

    /// <summary>The keys of <c>clusters.&lt;name&gt;.health.active</c>.</summary>
    internal static class ActiveHealthKeys
    {
        public const string Interval = "interval";
        public const string Timeout = "timeout";
        public const string Path = "path";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Interval, Timeout, Path];
    }

    /// <summary>The keys of <c>clusters.&lt;name&gt;.circuit_breaker</c>.</summary>
    internal static class CircuitBreakerKeys
    {
        public const string FailureRatio = "failure_ratio";
        public const string MinimumRequests = "minimum_requests";
        public const string Window = "window";
        public const string BreakDuration = "break_duration";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [FailureRatio, MinimumRequests, Window, BreakDuration];
    }
}
