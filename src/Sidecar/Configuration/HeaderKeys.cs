namespace Sidecar.Configuration;

/// <summary>
/// The keys of a header matcher: <c>retry_on.headers[]</c> and <c>retry_until[].header</c> (name and values) and
/// <c>routes[].match.headers[]</c> (name, values and mode), which spell them the same.
/// </summary>
internal static class HeaderKeys
{
    public const string Name = "name";
    public const string Values = "values";
    public const string Mode = "mode";

    /// <summary>Every key of a response-header matcher (<c>retry_on.headers[]</c>, <c>retry_until[].header</c>).</summary>
    public static IReadOnlyList<string> ResponseHeader { get; } = [Name, Values];

    /// <summary>Every key of a route's header match (<c>routes[].match.headers[]</c>).</summary>
    public static IReadOnlyList<string> Match { get; } = [Name, Values, Mode];
}
