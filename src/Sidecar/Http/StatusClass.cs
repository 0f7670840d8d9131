namespace Sidecar.Http;

/// <summary>Maps a status code to its class label (<c>"5xx"</c>) for bounded metric tags, without allocating.</summary>
internal static class StatusClass
{
    /// <summary>Label of codes outside 100..599 (including 0, "no response").</summary>
    public const string Other = "other";

    /// <summary>
    /// The <c>status_class</c> of a request whose caller left before any response went out: the caller saw no status,
    /// so the request counts neither as an error nor as a success of the route.
    /// </summary>
    public const string None = "none";

    private static readonly string[] Labels = ["1xx", "2xx", "3xx", "4xx", "5xx"];

    /// <summary>Every label <see cref="Of"/> can return.</summary>
    public static IReadOnlyList<string> All { get; } = [.. Labels, Other];

    /// <summary>Returns <c>"1xx"</c>..<c>"5xx"</c> for 100..599 and <see cref="Other"/> for anything else.
    /// The strings are cached: no allocation.</summary>
    public static string Of(int status)
        => status is >= 100 and <= 599 ? Labels[(status / 100) - 1] : Other;
}
