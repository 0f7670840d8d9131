using Sidecar.Configuration;

namespace Sidecar.Retries;

/// <summary>Reads the caller's deadline from <c>x-sidecar-timeout-ms</c> or gRPC's <c>grpc-timeout</c>.</summary>
internal static class DeadlineHeaderParser
{
    // gRPC over HTTP/2: "TimeoutValue → {positive integer as ASCII string of at most 8 digits}".
    private const int MaxGrpcDigits = 8;

    /// <summary>
    /// Parses <c>x-sidecar-timeout-ms</c>: a positive decimal integer of milliseconds, optional whitespace around it.
    /// </summary>
    /// <param name="value">The header value; <c>null</c> when absent.</param>
    /// <param name="timeout">The timeout; values above <see cref="ConfigReader.MaxDuration"/> (or overflowing) are capped there.</param>
    /// <returns><c>false</c> for absent, malformed, signed or zero values, which the caller ignores (the policy's timeout applies).
    /// Zero is rejected rather than read as "already expired": Envoy's similar header uses 0 for "no timeout",
    /// so either reading would surprise someone, and ignoring it is the safe one.</returns>
    public static bool TryParseTimeoutMs(string? value, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        var maxMilliseconds = (long)ConfigReader.MaxDuration.TotalMilliseconds;
        if (!HeaderSyntax.TryParseDigits(HeaderSyntax.TrimOws(value), maxMilliseconds, out var milliseconds) || milliseconds == 0)
        {
            return false;
        }

        timeout = TimeSpan.FromMilliseconds(milliseconds);
        return true;
    }

    /// <summary>
    /// Parses <c>grpc-timeout</c> as the gRPC over HTTP/2 spec defines it: 1 to 8 ASCII digits, then one unit:
    /// <c>H</c> hours, <c>M</c> minutes, <c>S</c> seconds, <c>m</c> milliseconds, <c>u</c> microseconds, <c>n</c> nanoseconds.
    /// </summary>
    /// <param name="value">The header value; <c>null</c> when absent.</param>
    /// <param name="timeout">The timeout, rounded up to whole ticks (100 ns) so a positive timeout never becomes zero;
    /// values above <see cref="ConfigReader.MaxDuration"/> are capped there.</param>
    /// <returns><c>false</c> for absent, malformed (9+ digits, unknown or missing unit, sign) or zero values.</returns>
    public static bool TryParseGrpcTimeout(string? value, out TimeSpan timeout)
    {
        timeout = TimeSpan.Zero;
        var span = HeaderSyntax.TrimOws(value);
        if (span.Length < 2 || span.Length > MaxGrpcDigits + 1)
        {
            return false;
        }

        // At most 8 digits: 99,999,999 hours is 3.6e18 ticks, which still fits a long, so no saturation is needed.
        if (!HeaderSyntax.TryParseDigits(span[..^1], long.MaxValue, out var amount) || amount == 0)
        {
            return false;
        }

        long ticks;
        switch (span[^1])
        {
            case 'H':
                ticks = amount * TimeSpan.TicksPerHour;
                break;
            case 'M':
                ticks = amount * TimeSpan.TicksPerMinute;
                break;
            case 'S':
                ticks = amount * TimeSpan.TicksPerSecond;
                break;
            case 'm':
                ticks = amount * TimeSpan.TicksPerMillisecond;
                break;
            case 'u':
                ticks = amount * TimeSpan.TicksPerMicrosecond;
                break;
            case 'n':
                ticks = (amount + TimeSpan.NanosecondsPerTick - 1) / TimeSpan.NanosecondsPerTick;
                break;
            default:
                return false;
        }

        timeout = TimeSpan.FromTicks(Math.Min(ticks, ConfigReader.MaxDuration.Ticks));
        return true;
    }
}
