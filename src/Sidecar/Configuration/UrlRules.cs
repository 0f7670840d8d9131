namespace Sidecar.Configuration;

/// <summary>
/// What makes a listen address or a destination URL acceptable; each method returns the problem or <c>null</c>.
/// A message shows the URL through <see cref="UrlRedaction"/>: errors are printed and logged.
/// </summary>
internal static class UrlRules
{
    /// <summary>
    /// A listen address is <c>http(s)://host:port</c> with an explicit port (0 = any free port) and no path.
    /// Kestrel's <c>*</c> and <c>+</c> wildcard hosts are accepted.
    /// </summary>
    public static string? ListenAddressError(string address)
    {
        const string Expected = "expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'";
        var schemeEnd = address.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd < 0)
        {
            return $"invalid listen address '{UrlRedaction.Redact(address)}': {Expected}";
        }

        var authority = address[(schemeEnd + 3)..].TrimEnd('/');
        if (authority.Contains('/', StringComparison.Ordinal) || authority.Contains('?', StringComparison.Ordinal) || authority.Contains('#', StringComparison.Ordinal))
        {
            return $"invalid listen address '{UrlRedaction.Redact(address)}': a listen address has no path or query; {Expected}";
        }

        // Uri does not parse Kestrel's wildcard hosts; they bind every interface like 0.0.0.0.
        var forUri = authority.StartsWith("*:", StringComparison.Ordinal) || authority.StartsWith("+:", StringComparison.Ordinal)
            ? string.Concat(address.AsSpan(0, schemeEnd + 3), "0.0.0.0", authority.AsSpan(1))
            : address;
        if (!Uri.TryCreate(forUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0)
        {
            return $"invalid listen address '{UrlRedaction.Redact(address)}': {Expected}";
        }

        if (uri.UserInfo.Length > 0)
        {
            return $"invalid listen address '{UrlRedaction.Redact(address)}': user info is not allowed; {Expected}";
        }

        var portSeparator = authority.LastIndexOf(':');
        if (portSeparator < 0 || portSeparator < authority.LastIndexOf(']') || portSeparator == authority.Length - 1)
        {
            return $"listen address '{UrlRedaction.Redact(address)}' needs an explicit port; {Expected}";
        }

        return null;
    }

    /// <summary>A destination is an absolute <c>http</c> or <c>https</c> URL with a host; a path prefix is allowed, a query or fragment is not.</summary>
    public static string? DestinationError(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Host.Length == 0
            || !url.Contains("://", StringComparison.Ordinal))
        {
            return $"invalid destination '{UrlRedaction.Redact(url)}': expected an absolute http(s) URL such as 'http://orders:8080'";
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return $"invalid destination '{UrlRedaction.Redact(url)}': a destination has no query or fragment";
        }

        return null;
    }

    /// <summary>
    /// The port two valid listen addresses would both bind, or <c>null</c> when they can coexist: different ports, port
    /// 0 (the OS picks a free one), or two different specific hosts. A wildcard host (<c>0.0.0.0</c>, <c>[::]</c>,
    /// <c>*</c>, <c>+</c>) binds the port on every interface, so it overlaps any host on that port.
    /// </summary>
    public static int? ListenAddressesOverlap(string first, string second)
    {
        var (firstHost, firstPort) = HostAndPort(first);
        var (secondHost, secondPort) = HostAndPort(second);
        if (firstPort == 0 || firstPort != secondPort)
        {
            return null;
        }

        return string.Equals(firstHost, secondHost, StringComparison.OrdinalIgnoreCase) || IsWildcard(firstHost) || IsWildcard(secondHost)
            ? firstPort
            : null;
    }

    private static (string Host, int Port) HostAndPort(string address)
    {
        var authority = address[(address.IndexOf("://", StringComparison.Ordinal) + 3)..].TrimEnd('/');
        var portSeparator = authority.LastIndexOf(':');
        _ = int.TryParse(authority.AsSpan(portSeparator + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port);
        return (authority[..portSeparator], port);
    }

    private static bool IsWildcard(string host) => host is "0.0.0.0" or "[::]" or "*" or "+";
}
