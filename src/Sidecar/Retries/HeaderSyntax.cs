namespace Sidecar.Retries;

/// <summary>Small allocation-free pieces of HTTP field-value syntax shared by the header parsers.</summary>
internal static class HeaderSyntax
{
    /// <summary>Removes optional whitespace (RFC 9110 §5.6.3 OWS: space and tab) from both ends.</summary>
    public static ReadOnlySpan<char> TrimOws(ReadOnlySpan<char> value) => value.Trim(" \t");

    /// <summary>
    /// Parses one or more ASCII digits and nothing else. Values above <paramref name="max"/> (however many
    /// digits) saturate to <paramref name="max"/>, so overflow is impossible.
    /// </summary>
    public static bool TryParseDigits(ReadOnlySpan<char> digits, long max, out long value)
    {
        value = 0;
        if (digits.IsEmpty)
        {
            return false;
        }

        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
            {
                value = 0;
                return false;
            }

            var digit = c - '0';
            value = value > (max - digit) / 10 ? max : (value * 10) + digit;
        }

        return true;
    }
}
