using System.Collections.Frozen;

namespace Sidecar.Telemetry;

/// <summary>
/// The HTTP method as telemetry shows it. A caller may send any token of any length as its method, so, as
/// OpenTelemetry's HTTP conventions say, only the known methods (RFC 9110's and PATCH) are kept, in upper case, and
/// anything else becomes <c>_OTHER</c>: the <c>method</c> label, the request span's name and its
/// <c>http.request.method</c> all come from here. The method forwarded upstream is never changed.
/// https://opentelemetry.io/docs/specs/semconv/http/http-spans/#common-attributes
/// </summary>
internal static class HttpMethodLabel
{
    /// <summary>Every method that is not known.</summary>
    public const string Other = "_OTHER";

    /// <summary>What a span name starts with when the method is <see cref="Other"/>.</summary>
    public const string OtherSpanPrefix = "HTTP";

    // Keyed case-insensitively (ASP.NET Core treats methods that way) onto the interned upper-case strings, so a
    // lookup allocates nothing; a long unknown method is rejected on its length before any hashing.
    private static readonly FrozenDictionary<string, string> Known = new[]
    {
        HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Delete,
        HttpMethods.Connect, HttpMethods.Options, HttpMethods.Trace, HttpMethods.Patch,
    }.ToFrozenDictionary(static method => method, static method => method, StringComparer.OrdinalIgnoreCase);

    /// <summary>The known method in upper case, or <see cref="Other"/>.</summary>
    /// <remarks>Kestrel hands out the <see cref="HttpMethods"/> strings themselves for the methods it knows: the usual
    /// GET and POST are recognised by reference, without hashing.</remarks>
    public static string Of(string method) =>
        ReferenceEquals(method, HttpMethods.Get) || ReferenceEquals(method, HttpMethods.Post) ? method
        : Known.TryGetValue(method, out var known) ? known : Other;

    /// <summary>
    /// The first word of an HTTP span name: the known method, or <c>HTTP</c> for <see cref="Other"/>, as the span
    /// naming convention asks (<c>{method} {target}</c>, with <c>HTTP</c> when the method is not known).
    /// </summary>
    public static string SpanPrefix(string label) => ReferenceEquals(label, Other) ? OtherSpanPrefix : label;
}
