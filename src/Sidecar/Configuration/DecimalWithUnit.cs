using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Sidecar.Configuration;

/// <summary>Splits <c>1.5s</c> / <c>64KiB</c> into a non-negative number and its unit, rejecting anything looser.</summary>
internal static class DecimalWithUnit
{
    /// <summary>
    /// Splits <paramref name="text"/> into digits with an optional fraction and the letters after them.
    /// <paramref name="unit"/> is empty when there are none; the caller decides which units exist.
    /// </summary>
    public static bool TrySplit(string? text, string what, out decimal number, out string unit, [NotNullWhen(false)] out string? error)
    {
        number = 0;
        unit = string.Empty;
        if (string.IsNullOrEmpty(text))
        {
            error = $"empty {what}";
            return false;
        }

        if (text.Any(char.IsWhiteSpace))
        {
            error = $"{what} '{text}' must not contain whitespace";
            return false;
        }

        if (text[0] == '-')
        {
            error = $"{what} '{text}' must not be negative";
            return false;
        }

        var i = 0;
        while (i < text.Length && char.IsAsciiDigit(text[i]))
        {
            i++;
        }

        var integerDigits = i;
        if (i < text.Length && text[i] == '.')
        {
            i++;
            var fractionStart = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (i == fractionStart)
            {
                integerDigits = 0;
            }
        }

        if (integerDigits == 0)
        {
            error = $"{what} '{text}' must start with a number, e.g. '250ms' or '64KiB'";
            return false;
        }

        unit = text[i..];
        if (unit.Length > 0 && !unit.All(char.IsAsciiLetter))
        {
            error = $"{what} '{text}' must be a number followed by one unit";
            return false;
        }

        // decimal holds 28-29 significant digits; anything longer fails here instead of overflowing later.
        if (!decimal.TryParse(text.AsSpan(0, i), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out number))
        {
            error = $"{what} '{text}' is too large";
            return false;
        }

        error = null;
        return true;
    }
}
