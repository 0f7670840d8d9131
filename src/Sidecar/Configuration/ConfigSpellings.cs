namespace Sidecar.Configuration;

/// <summary>
/// How the YAML spells each enumerated value: the one table the binder reads, <c>validate</c> and <c>/config</c>
/// print from, so a value is written back exactly as a config file would say it.
/// </summary>
internal static class ConfigSpellings
{
    public static readonly (string Name, BackoffAlgorithm Value)[] Algorithms =
    [
        ("constant", BackoffAlgorithm.Constant),
        ("linear", BackoffAlgorithm.Linear),
        ("exponential", BackoffAlgorithm.Exponential),
        ("fibonacci", BackoffAlgorithm.Fibonacci),
        ("range", BackoffAlgorithm.Range),
    ];

    public static readonly (string Name, JitterMode Value)[] JitterModes =
    [
        ("none", JitterMode.None),
        ("full", JitterMode.Full),
        ("equal", JitterMode.Equal),
        ("decorrelated", JitterMode.Decorrelated),
    ];

    public static readonly (string Name, RetryableErrors Value)[] ErrorNames =
    [
        ("connect-failure", RetryableErrors.ConnectFailure),
        ("reset", RetryableErrors.Reset),
        ("per-try-timeout", RetryableErrors.PerTryTimeout),
        ("tls", RetryableErrors.Tls),
    ];

    public static readonly (string Name, TlsMinVersion Value)[] TlsVersions =
    [
        ("1.2", TlsMinVersion.Tls12),
        ("1.3", TlsMinVersion.Tls13),
    ];

    public static readonly (string Name, HeaderMatchMode Value)[] HeaderModes =
    [
        ("exact", HeaderMatchMode.Exact),
        ("prefix", HeaderMatchMode.Prefix),
        ("contains", HeaderMatchMode.Contains),
        ("exists", HeaderMatchMode.Exists),
        ("not-exists", HeaderMatchMode.NotExists),
    ];

    /// <summary>YARP's load-balancing policy names, spelt as YARP spells them.</summary>
    public static readonly (string Name, string Value)[] LoadBalancingPolicies =
    [
        ("PowerOfTwoChoices", "PowerOfTwoChoices"),
        ("RoundRobin", "RoundRobin"),
        ("Random", "Random"),
        ("LeastRequests", "LeastRequests"),
        ("FirstAlphabetical", "FirstAlphabetical"),
    ];

    public static readonly (string Name, ProxyProtocol Value)[] ProxyProtocols =
    [
        ("http1", ProxyProtocol.Http1),
        ("h2c", ProxyProtocol.H2c),
    ];

    public static readonly (string Name, UpstreamProtocol Value)[] Protocols =
    [
        ("auto", UpstreamProtocol.Auto),
        ("http2", UpstreamProtocol.Http2),
    ];

    /// <summary><c>logs.access</c> (the binder also reads <c>false</c> as <c>off</c>, see <see cref="LogsBinder"/>).</summary>
    public static readonly (string Name, AccessLogMode Value)[] AccessLogModes =
    [
        ("off", AccessLogMode.Off),
        ("failures", AccessLogMode.Failures),
        ("all", AccessLogMode.All),
    ];

    /// <summary>The YAML spelling of <paramref name="value"/> in <paramref name="table"/>.</summary>
    public static string Name<T>(IReadOnlyList<(string Name, T Value)> table, T value)
    {
        foreach (var (name, candidate) in table)
        {
            if (EqualityComparer<T>.Default.Equals(candidate, value))
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, "No spelling for this value.");
    }
}
