using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.Forwarding;

/// <summary>
/// The request target as the caller sent it, for the upstream. YARP rebuilds the upstream URL from the decoded
/// <see cref="HttpRequest.Path"/>, and Kestrel leaves <c>%2F</c> encoded there (decoding it would create a path
/// separator), so YARP escapes its <c>%</c> again and <c>/a%2Fb</c> arrives as <c>/a%252Fb</c> (dotnet/yarp#1419).
/// Sending the raw target instead gives the upstream the exact bytes the caller sent, which is what routing saw as
/// long as Kestrel's only change was percent-decoding: targets it normalised further (dot segments) keep YARP's URL,
/// built from the path that was routed.
/// </summary>
internal static class RawRequestTarget
{
    // '#' would start a fragment and '\' is a separator to some parsers: neither may reach the URL as sent.
    private static readonly SearchValues<char> Unsafe = SearchValues.Create("#\\");

    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>
    /// The raw origin-form target (path and query) of the request when it can be forwarded as is: it starts with
    /// <c>/</c>, is printable ASCII without <c>#</c> or <c>\</c>, and its path has no <c>.</c> or <c>..</c> segment
    /// (plain or percent-encoded). Absolute-form, asterisk-form and anything else: false, and YARP builds the URL.
    /// </summary>
    public static bool TryGet(HttpContext context, out string target)
    {
        target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        var span = target.AsSpan();
        if (span.IsEmpty || span[0] != '/' || span.IndexOfAnyExceptInRange('!', '~') >= 0 || span.IndexOfAny(Unsafe) >= 0)
        {
            return false;
        }

        var query = span.IndexOf('?');
        return !HasDotSegment(query < 0 ? span : span[..query]);
    }

    /// <summary>The upstream URL: the destination prefix (without a trailing <c>/</c>) followed by the target, unchanged.</summary>
    public static Uri Destination(string destinationPrefix, string target)
    {
        var prefix = destinationPrefix.AsSpan();
        if (prefix.EndsWith('/'))
        {
            prefix = prefix[..^1];
        }

        return new Uri(string.Concat(prefix, target), in Verbatim);
    }

    /// <summary>True when a segment of <paramref name="path"/> is <c>.</c> or <c>..</c>, a dot possibly written <c>%2E</c>.</summary>
    internal static bool HasDotSegment(ReadOnlySpan<char> path)
    {
        while (!path.IsEmpty)
        {
            var slash = path.IndexOf('/');
            var segment = slash < 0 ? path : path[..slash];
            if (IsDotSegment(segment))
            {
                return true;
            }

            path = slash < 0 ? default : path[(slash + 1)..];
        }

        return false;
    }

    private static bool IsDotSegment(ReadOnlySpan<char> segment)
    {
        var dots = 0;
        for (var i = 0; i < segment.Length; dots++)
        {
            if (segment[i] == '.')
            {
                i++;
            }
            else if (i + 2 < segment.Length && segment[i] == '%' && segment[i + 1] == '2' && (segment[i + 2] | 0x20) == 'e')
            {
                i += 3;
            }
            else
            {
                return false;
            }
        }

        return dots is 1 or 2;
    }
}
