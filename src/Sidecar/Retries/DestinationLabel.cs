namespace Sidecar.Retries;

/// <summary>
/// How the access log and the explain header name a destination: the authority of its configured address
/// (<c>10.0.0.1:8080</c>), without scheme, path or credentials.
/// </summary>
internal static class DestinationLabel
{
    public static ReadOnlySpan<char> Of(string address)
    {
        var span = address.AsSpan();
        var scheme = span.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            span = span[(scheme + 3)..];
        }

        var path = span.IndexOfAny('/', '?', '#');
        if (path >= 0)
        {
            span = span[..path];
        }

        var credentials = span.LastIndexOf('@');
        return credentials >= 0 ? span[(credentials + 1)..] : span;
    }
}
