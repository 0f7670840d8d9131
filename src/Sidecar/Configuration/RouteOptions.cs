namespace Sidecar.Configuration;

/// <summary>One entry of <c>routes:</c>. Order in the file is precedence.</summary>
internal sealed record RouteOptions
{
    /// <summary>Unique route name; used as the <c>route</c> label in metrics.</summary>
    public required string Name { get; init; }

    public required RouteMatchOptions Match { get; init; }

    /// <summary>Name of a cluster in <c>clusters:</c>.</summary>
    public required string Cluster { get; init; }

    /// <summary>Name of a policy in <c>policies:</c>; <c>null</c> means no retries and no body buffering.</summary>
    public string? Policy { get; init; }

    /// <summary>1-based line of the route in its file, for messages and <c>sidecar validate</c>.</summary>
    public int Line { get; init; }
}

/// <summary><c>match:</c> of a route. Every given part must match.</summary>
internal sealed record RouteMatchOptions
{
    /// <summary>ASP.NET Core route template, e.g. <c>/orders/{**rest}</c>. Default: every path.</summary>
    public string Path { get; init; } = "/{**catch-all}";

    /// <summary>HTTP methods, upper case; empty means any.</summary>
    public IReadOnlyList<string> Methods { get; init; } = [];

    /// <summary>Host names (with optional port or leading <c>*.</c> wildcard); empty means any.</summary>
    public IReadOnlyList<string> Hosts { get; init; } = [];

    /// <summary>Header matchers; all must match.</summary>
    public IReadOnlyList<HeaderMatchOptions> Headers { get; init; } = [];
}

/// <summary>A request header matcher: <c>{ name, values, mode }</c>.</summary>
internal sealed record HeaderMatchOptions
{
    public required string Name { get; init; }

    /// <summary>Accepted values; empty with mode <c>exists</c>.</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    /// <summary><c>exact</c> (default), <c>prefix</c>, <c>contains</c>, <c>exists</c>, <c>not-exists</c>.</summary>
    public HeaderMatchMode Mode { get; init; } = HeaderMatchMode.Exact;
}

internal enum HeaderMatchMode
{
    Exact,
    Prefix,
    Contains,
    Exists,
    NotExists,
}
