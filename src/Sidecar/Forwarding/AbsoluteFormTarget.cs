using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.Forwarding;

/// <summary>
/// Turns an absolute-form request target (<c>GET http://host/a%2Fb HTTP/1.1</c>, RFC 9112 §3.2.2) into the
/// origin-form one (<c>/a%2Fb</c>) before routing, so both forms are routed and forwarded alike, as nginx and Envoy do.
/// Kestrel builds an absolute-form request's path from <see cref="Uri.LocalPath"/>, which decodes <c>%2F</c> into a
/// separator: <c>/public/..%2F..%2Fok</c> became <c>/public/../../ok</c>, matched <c>/public/{**rest}</c>, and the
/// URL YARP then built resolved the dots away, base path and route included. The authority is dropped: Sidecar sends
/// every request to its route's cluster with the destination's own authority.
/// </summary>
internal static class AbsoluteFormTarget
{
    /// <summary>
    /// When the request's raw target is absolute-form, sets the raw target, path and query to what the same request
    /// in origin form would have had. Other forms are left as they are.
    /// </summary>
    public static void RewriteToOriginForm(HttpContext context)
    {
        var feature = context.Features.Get<IHttpRequestFeature>();
        if (feature is null || !TryGetOriginForm(feature.RawTarget, out var originForm))
        {
            return;
        }

        var query = originForm.IndexOf('?');
        feature.RawTarget = originForm;
        feature.Path = DecodePath(query < 0 ? originForm : originForm[..query]);
        feature.QueryString = query < 0 ? string.Empty : originForm[query..];
    }

    /// <summary>The path and query of <c>http(s)://authority/path?query</c> (<c>/</c> when the path is empty), or false.</summary>
    internal static bool TryGetOriginForm(string? rawTarget, out string originForm)
    {
        originForm = string.Empty;
        var target = rawTarget.AsSpan();
        if (target.IsEmpty || target[0] == '/')
        {
            // Origin form, nearly every request: nothing to search.
            return false;
        }

        var schemeEnd = target.IndexOf("://", StringComparison.Ordinal);
        if (schemeEnd <= 0)
        {
            return false;
        }

        var afterScheme = target[(schemeEnd + 3)..];
        var pathStart = afterScheme.IndexOfAny('/', '?');
        originForm = pathStart < 0 ? "/"
            : afterScheme[pathStart] == '?' ? string.Concat("/", afterScheme[pathStart..])
            : afterScheme[pathStart..].ToString();
        return true;
    }

    /// <summary>
    /// The path Kestrel gives an origin-form target: percent-escapes decoded as UTF-8 except <c>%2F</c>, which stays
    /// encoded (decoding it would make a separator), then <c>.</c> and <c>..</c> segments removed (RFC 3986 §5.2.4).
    /// </summary>
    internal static string DecodePath(string rawPath)
    {
        var bytes = new List<byte>(rawPath.Length);
        for (var i = 0; i < rawPath.Length; i++)
        {
            if (rawPath[i] == '%' && i + 2 < rawPath.Length && char.IsAsciiHexDigit(rawPath[i + 1]) && char.IsAsciiHexDigit(rawPath[i + 2]))
            {
                var value = (byte)Convert.ToInt32(rawPath.Substring(i + 1, 2), 16);
                if (value == (byte)'/')
                {
                    // Kept as sent: %2F or %2f.
                    bytes.AddRange(Encoding.ASCII.GetBytes(rawPath.Substring(i, 3)));
                }
                else
                {
                    bytes.Add(value);
                }

                i += 2;
            }
            else
            {
                // A request target is ASCII (Kestrel refuses anything else on the request line).
                bytes.Add((byte)rawPath[i]);
            }
        }

        return RemoveDotSegments(Encoding.UTF8.GetString([.. bytes]));
    }

    private static string RemoveDotSegments(string path)
    {
        var segments = new List<string>();
        var parts = path.Split('/');
        for (var i = 1; i < parts.Length; i++)
        {
            var part = parts[i];
            var last = i == parts.Length - 1;
            if (part == ".")
            {
                if (last)
                {
                    segments.Add(string.Empty);
                }
            }
            else if (part == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                if (last)
                {
                    segments.Add(string.Empty);
                }
            }
            else
            {
                segments.Add(part);
            }
        }

        return "/" + string.Join('/', segments);
    }
}
