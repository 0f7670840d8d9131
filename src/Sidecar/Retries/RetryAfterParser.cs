using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;
using Sidecar.Configuration;

namespace Sidecar.Retries;

/// <summary>
/// Reads <c>Retry-After</c> (RFC 9110 §10.2.3): <c>delay-seconds</c> or an HTTP-date. Dates are parsed by .NET's
/// <see cref="RetryConditionHeaderValue"/>, exactly as <c>HttpResponseMessage.Headers.RetryAfter</c> would read them
/// (IMF-fixdate, RFC 850 and asctime, plus the lenient variants .NET accepts; a weekday that contradicts the date is
/// rejected). Never throws.
/// </summary>
internal static class RetryAfterParser
{
    /// <summary>
    /// Parses a <c>Retry-After</c> field. More than one field line is malformed (the field is a singleton) and yields <c>false</c>.
    /// </summary>
    /// <inheritdoc cref="TryParse(string?, DateTimeOffset, out TimeSpan)"/>
    public static bool TryParse(StringValues headerValue, DateTimeOffset now, out TimeSpan delay)
    {
        if (headerValue.Count != 1)
        {
            delay = TimeSpan.Zero;
            return false;
        }

        return TryParse(headerValue[0], now, out delay);
    }

    /// <summary>Parses one <c>Retry-After</c> value.</summary>
    /// <param name="headerValue">The field value; <c>null</c> when absent. Optional whitespace around it is ignored.</param>
    /// <param name="now">The current time, against which an HTTP-date is measured.</param>
    /// <param name="delay">How long the server asks to wait: the seconds given, or the time until the date given
    /// (zero for a date in the past). Anything longer than <see cref="ConfigReader.MaxDuration"/> (one day),
    /// including values too large for any integer type, is read as exactly that cap.</param>
    /// <returns><c>false</c> for absent, empty or malformed values (signs, fractions, lists, unknown date formats).</returns>
    public static bool TryParse(string? headerValue, DateTimeOffset now, out TimeSpan delay)
    {
        delay = TimeSpan.Zero;
        var span = HeaderSyntax.TrimOws(headerValue);
        if (span.IsEmpty)
        {
            return false;
        }

        var cap = ConfigReader.MaxDuration;
        if (char.IsAsciiDigit(span[0]))
        {
            // Seconds are read here rather than by RetryConditionHeaderValue, which rejects more than int.MaxValue:
            // a server asking for an absurdly long wait still means "wait as long as you may", not "ignore me".
            // This form is also the common one, and reading it allocates nothing.
            if (!HeaderSyntax.TryParseDigits(span, (long)cap.TotalSeconds, out var seconds))
            {
                return false;
            }

            delay = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (!RetryConditionHeaderValue.TryParse(headerValue, out var parsed) || parsed.Date is not { } date)
        {
            return false;
        }

        // Both instants lie within DateTimeOffset's range (±3.2e18 ticks), so their difference cannot overflow a long.
        var ticks = date.UtcTicks - now.UtcTicks;
        delay = TimeSpan.FromTicks(Math.Clamp(ticks, 0, cap.Ticks));
        return true;
    }
}
