using Sidecar.Configuration;

namespace Sidecar.Retries;

/// <summary>
/// Reads the upstream's <c>x-sidecar-retry-pushback-ms</c>, which works like gRPC's
/// <c>grpc-retry-pushback-ms</c> (gRFC A6): a non-negative integer is the delay before the next retry,
/// a negative one means "do not retry".
/// </summary>
internal static class PushbackParser
{
    /// <summary>
    /// Parses an optionally signed decimal integer of milliseconds surrounded by optional whitespace.
    /// </summary>
    /// <param name="value">The header value; <c>null</c> when absent.</param>
    /// <param name="delay">The delay asked for; longer than <see cref="ConfigReader.MaxDuration"/> (or overflowing) is capped there. Zero when <paramref name="stop"/>.</param>
    /// <param name="stop"><c>true</c> for a negative value: the upstream asks not to be retried.</param>
    /// <returns><c>false</c> for an absent, empty or malformed value (a sign alone, <c>+</c>, fractions, text), which the caller ignores.
    /// Unlike gRPC, which treats an unparseable pushback as "stop", garbage here is ignored: the header is ours
    /// and a proxy in between should not be able to switch retries off by mangling it.</returns>
    public static bool TryParse(string? value, out TimeSpan delay, out bool stop)
    {
        delay = TimeSpan.Zero;
        stop = false;
        if (!TryParseSigned(value, out var milliseconds, out var negative))
        {
            return false;
        }

        if (negative && milliseconds > 0)
        {
            stop = true;
            return true;
        }

        delay = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>
    /// Parses gRPC's own <c>grpc-retry-pushback-ms</c> as gRFC A6 has clients read it: only a non-negative decimal
    /// integer is a delay; anything else (negative, empty, malformed, repeated) means "do not retry".
    /// </summary>
    /// <param name="value">The header value; <c>null</c> when absent or repeated.</param>
    /// <param name="delay">The exact delay asked for, capped at <see cref="ConfigReader.MaxDuration"/>.</param>
    /// <returns><c>false</c>: do not retry.</returns>
    public static bool TryParseGrpc(string? value, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        if (!TryParseSigned(value, out var milliseconds, out var negative) || (negative && milliseconds > 0))
        {
            return false;
        }

        delay = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    private static bool TryParseSigned(string? value, out long milliseconds, out bool negative)
    {
        var span = HeaderSyntax.TrimOws(value);
        negative = span.StartsWith('-');
        if (negative)
        {
            span = span[1..];
        }

        var maxMilliseconds = (long)ConfigReader.MaxDuration.TotalMilliseconds;
        return HeaderSyntax.TryParseDigits(span, maxMilliseconds, out milliseconds);
    }
}
