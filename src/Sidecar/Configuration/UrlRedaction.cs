namespace Sidecar.Configuration;

/// <summary>
/// The one place that hides credentials in a configured URL before Sidecar shows it anywhere (<c>/config</c>,
/// <c>sidecar validate</c>, configuration errors and the log lines that repeat them): the user-info
/// (<c>http://user:token@host</c>) and the query string are where a credential can hide in this config.
/// </summary>
internal static class UrlRedaction
{
    /// <summary>What replaces a hidden part.</summary>
    public const string Redacted = "REDACTED";

    /// <summary>
    /// <paramref name="url"/> with its user-info and query string replaced by <see cref="Redacted"/>, or as it is when it
    /// has neither. Text that does not parse as a URL (it is being reported as invalid) loses them by position:
    /// everything after the scheme up to the last <c>@</c> before the query, and everything after a <c>?</c>.
    /// </summary>
    public static string Redact(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && url.Contains("://", StringComparison.Ordinal))
        {
            if (uri.UserInfo.Length == 0 && uri.Query.Length == 0)
            {
                // Nothing to hide: shown as written, not as Uri normalises it (case, default port, trailing slash).
                return url;
            }

            var builder = new UriBuilder(uri);
            if (builder.UserName.Length > 0 || builder.Password.Length > 0)
            {
                builder.UserName = Redacted;
                builder.Password = string.Empty;
            }

            if (builder.Query.Length > 0)
            {
                builder.Query = Redacted;
            }

            return builder.Uri.GetComponents(UriComponents.AbsoluteUri, UriFormat.UriEscaped).TrimEnd('/');
        }

        return RedactText(url);
    }

    /// <summary>A path with its query string, which may carry a token (<c>/healthz?token=...</c>), replaced by <see cref="Redacted"/>.</summary>
    public static string RedactQuery(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var query = path.IndexOf('?');
        return query < 0 ? path : string.Concat(path.AsSpan(0, query + 1), Redacted);
    }

    private static string RedactText(string text)
    {
        var query = text.IndexOfAny(['?', '#']);
        if (query >= 0 && text[query] == '?')
        {
            var fragment = text.IndexOf('#', query);
            text = string.Concat(text.AsSpan(0, query + 1), Redacted, fragment >= 0 ? text.AsSpan(fragment) : ReadOnlySpan<char>.Empty);
        }

        // Unparsed, the authority's end is a guess: everything up to the last '@' before the query goes.
        var at = (query >= 0 ? text.AsSpan(0, query) : text.AsSpan()).LastIndexOf('@');
        if (at < 0)
        {
            return text;
        }

        var schemeEnd = text.IndexOf("://", StringComparison.Ordinal);
        var start = schemeEnd >= 0 && schemeEnd < at ? schemeEnd + 3 : 0;
        return string.Concat(text.AsSpan(0, start), Redacted, text.AsSpan(at));
    }
}
