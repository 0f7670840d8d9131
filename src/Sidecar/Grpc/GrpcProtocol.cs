using System.Globalization;

namespace Sidecar.Grpc;

/// <summary>
/// What Sidecar needs of gRPC over HTTP/2 (gRPC's <c>PROTOCOL-HTTP2.md</c>) and of its retry design (gRFC A6): which
/// requests are gRPC, the header names, and the <c>grpc-timeout</c> format.
/// </summary>
internal static class GrpcProtocol
{
    public const string Status = "grpc-status";
    public const string Message = "grpc-message";
    public const string Timeout = "grpc-timeout";

    /// <summary>A6: the upstream's delay before the next attempt; negative or malformed means "do not retry".</summary>
    public const string RetryPushbackMs = "grpc-retry-pushback-ms";

    /// <summary>A6: sent on every retry, the number of attempts made before this one.</summary>
    public const string PreviousRpcAttempts = "grpc-previous-rpc-attempts";

    /// <summary>HTTP's OWS (RFC 9110 5.6.3), which may surround a field value.</summary>
    internal const string OptionalWhitespace = " \t";

    private const string ContentTypePrefix = "application/grpc";

    // "TimeoutValue → {positive integer as ASCII string of at most 8 digits}".
    private const long MaxTimeoutValue = 99_999_999;

    /// <summary>A gRPC request: its <c>content-type</c> starts with <c>application/grpc</c> (+proto, +json, -web ...).</summary>
    public static bool IsGrpc(HttpRequest request) => IsGrpcContentType(request.ContentType);

    public static bool IsGrpcContentType(string? contentType) =>
        contentType is { } type && type.StartsWith(ContentTypePrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Removes the spaces (or tabs) around a <c>grpc-status</c> value in <paramref name="headers"/>. gRPC's grammar is
    /// digits only: Sidecar reads <c>"14 "</c> as 14, and strict clients (grpc-go) refuse it, so the caller gets the
    /// status Sidecar acted on.
    /// </summary>
    public static void TrimStatus(IHeaderDictionary headers)
    {
        var values = headers[Status];
        if (values.Count == 1 && values[0] is { Length: > 0 } text && (OptionalWhitespace.Contains(text[0]) || OptionalWhitespace.Contains(text[^1])))
        {
            headers[Status] = text.AsSpan().Trim(OptionalWhitespace).ToString();
        }
    }

    /// <summary>
    /// Writes <paramref name="timeout"/> as a <c>grpc-timeout</c> value: milliseconds (<c>1500m</c>), or microseconds
    /// under one millisecond, or a coarser unit when 8 digits of milliseconds are not enough. Rounded down, so the
    /// upstream never thinks it has more time than Sidecar gives it, but never below one unit.
    /// </summary>
    public static string FormatTimeout(TimeSpan timeout)
    {
        var ticks = Math.Max(timeout.Ticks, 0);
        if (ticks < TimeSpan.TicksPerMillisecond)
        {
            return Format(Math.Max(ticks / TimeSpan.TicksPerMicrosecond, 1), 'u');
        }

        var milliseconds = ticks / TimeSpan.TicksPerMillisecond;
        if (milliseconds <= MaxTimeoutValue)
        {
            return Format(milliseconds, 'm');
        }

        var seconds = ticks / TimeSpan.TicksPerSecond;
        if (seconds <= MaxTimeoutValue)
        {
            return Format(seconds, 'S');
        }

        return Format(Math.Min(ticks / TimeSpan.TicksPerHour, MaxTimeoutValue), 'H');
    }

    private static string Format(long value, char unit) =>
        string.Create(CultureInfo.InvariantCulture, $"{value}{unit}");
}
