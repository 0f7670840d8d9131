using System.Net.Sockets;
using System.Text;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// HTTP/1.1 written by hand on a fresh loopback connection, for requests <see cref="HttpClient"/> refuses to send
/// (absolute-form targets, CONNECT, repeated headers, lying Content-Length).
/// </summary>
public static class RawHttp
{
    /// <summary>
    /// Sends <paramref name="head"/> (and <paramref name="body"/>), then reads one response: until the headers and a
    /// Content-Length body (or the end of a chunked one) are in, or the server closes. Bounded by <paramref name="within"/>.
    /// </summary>
    public static async Task<RawResponse> ExchangeAsync(Uri server, string head, byte[]? body = null, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(10));
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
        if (body is not null)
        {
            try
            {
                await stream.WriteAsync(body, timeout.Token);
            }
            catch (IOException)
            {
                // The server answered and closed before taking the whole body (413): read what it said.
            }
        }

        return await ReadResponseAsync(stream, timeout.Token);
    }

    /// <summary>Reads one response from <paramref name="stream"/> (see <see cref="ExchangeAsync"/>).</summary>
    public static async Task<RawResponse> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var chunk = new byte[16 * 1024];
        var closed = false;
        while (!IsComplete(received.ToArray()))
        {
            int read;
            try
            {
                read = await stream.ReadAsync(chunk, cancellationToken);
            }
            catch (IOException)
            {
                read = 0;
            }

            if (read == 0)
            {
                closed = true;
                break;
            }

            received.Write(chunk, 0, read);
        }

        return new RawResponse(Encoding.Latin1.GetString(received.ToArray()), closed);
    }

    private static bool IsComplete(byte[] data)
    {
        var text = Encoding.Latin1.GetString(data);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }

        var head = text[..end];
        var body = text[(end + 4)..];
        if (RawResponse.HeaderIn(head, "Content-Length") is { } length)
        {
            return body.Length >= int.Parse(length, System.Globalization.CultureInfo.InvariantCulture);
        }

        if (RawResponse.HeaderIn(head, "Transfer-Encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return body.EndsWith("0\r\n\r\n", StringComparison.Ordinal);
        }

        // No framing: a 1xx/204/304 has no body; anything else runs until the server closes.
        var status = RawResponse.StatusIn(head);
        return status is (>= 100 and < 200) or 204 or 304;
    }
}

/// <summary>What a server sent back on a raw connection; <see cref="Status"/> is 0 when nothing parseable came.</summary>
public sealed record RawResponse(string Text, bool ServerClosed)
{
    public int Status => StatusIn(Text);

    /// <summary>The body, de-chunked when it came with <c>Transfer-Encoding: chunked</c>.</summary>
    public string Body
    {
        get
        {
            var end = Text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end < 0)
            {
                return string.Empty;
            }

            var raw = Text[(end + 4)..];
            if (Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) != true)
            {
                return raw;
            }

            var body = new System.Text.StringBuilder();
            var at = 0;
            while (raw.IndexOf("\r\n", at, StringComparison.Ordinal) is var lineEnd and > 0
                && int.TryParse(raw.AsSpan(at, lineEnd - at), System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture, out var size)
                && size > 0
                && lineEnd + 2 + size <= raw.Length)
            {
                body.Append(raw, lineEnd + 2, size);
                at = lineEnd + 2 + size + 2;
            }

            return body.ToString();
        }
    }

    public string? Header(string name) => HeaderIn(Text.Split("\r\n\r\n")[0], name);

    internal static int StatusIn(string text)
    {
        // "HTTP/1.1 404 Not Found"
        var parts = text.Split(' ', 3);
        return parts.Length >= 2 && parts[0].StartsWith("HTTP/", StringComparison.Ordinal)
            && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var status) ? status : 0;
    }

    internal static string? HeaderIn(string head, string name)
    {
        foreach (var line in head.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line[..colon].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
