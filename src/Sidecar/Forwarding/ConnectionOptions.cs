using System.Collections.Frozen;
using Microsoft.Net.Http.Headers;

namespace Sidecar.Forwarding;

/// <summary>
/// Connection options (RFC 9110 §7.6.1): the field names a <c>Connection</c> header lists are for this hop only, and
/// "intermediaries MUST parse a received Connection header field before a message is forwarded and, for each
/// connection-option in this field, remove any header or trailer field(s) from the message with the same name".
/// YARP drops a fixed list of hop-by-hop fields (<c>Connection</c>, <c>Keep-Alive</c>, <c>Upgrade</c>, <c>TE</c>...)
/// but not the ones a message names, so Sidecar removes those: from the caller's request before it is forwarded, and
/// from the upstream's response before it reaches the caller.
/// </summary>
internal static class ConnectionOptions
{
    // Never removed when named: Kestrel has already framed and routed the message with them, and YARP forwards an
    // upgrade or a gRPC "TE: trailers" from them itself, hop by hop.
    private static readonly FrozenSet<string> Kept = FrozenSet.Create(
        StringComparer.OrdinalIgnoreCase,
        HeaderNames.ContentLength,
        HeaderNames.TransferEncoding,
        HeaderNames.Host,
        HeaderNames.Upgrade,
        HeaderNames.TE,
        HeaderNames.Connection);

    private static readonly FrozenSet<string>.AlternateLookup<ReadOnlySpan<char>> KeptBySpan = Kept.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>Removes from <paramref name="headers"/> each field named in the caller's <c>Connection</c> header.</summary>
    public static void RemoveNamedIn(IHeaderDictionary headers)
    {
        var connection = headers.Connection;
        foreach (var value in connection)
        {
            RemoveNamedIn(value, headers);
        }
    }

    /// <summary>Removes from <paramref name="headers"/> each field that the <c>Connection</c> value <paramref name="connection"/> names.</summary>
    public static void RemoveNamedIn(string? connection, IHeaderDictionary headers)
    {
        var rest = connection.AsSpan();
        while (!rest.IsEmpty)
        {
            var comma = rest.IndexOf(',');
            var option = (comma < 0 ? rest : rest[..comma]).Trim(" \t");
            rest = comma < 0 ? default : rest[(comma + 1)..];

            // The usual options ("close", "keep-alive", "Upgrade") are decided without allocating.
            if (option.IsEmpty || KeptBySpan.Contains(option)
                || option.Equals("close", StringComparison.OrdinalIgnoreCase) || option.Equals("keep-alive", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            headers.Remove(option.ToString());
        }
    }
}
