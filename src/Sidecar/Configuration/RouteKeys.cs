namespace Sidecar.Configuration;

/// <summary>The keys of each entry of <c>routes</c>.</summary>
internal static class RouteKeys
{
    public const string Name = "name";
    public const string Match = "match";
    public const string Cluster = "cluster";
    public const string Policy = "policy";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Name, Match, Cluster, Policy];

    /// <summary>The keys of <c>routes[].match</c>.</summary>
    internal static class MatchKeys
    {
        public const string Path = "path";
        public const string Methods = "methods";
        public const string Hosts = "hosts";
        public const string Headers = "headers";

        /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
        public static IReadOnlyList<string> All { get; } = [Path, Methods, Hosts, Headers];
    }
}
