using System.Globalization;

namespace Sidecar.Configuration;

/// <summary>Parses a status code (<c>503</c>, 100..599) or class (<c>5xx</c>, 1xx..5xx) into a <see cref="StatusMatcher"/>.</summary>
internal static class StatusParser
{
    /// <summary>Parses <paramref name="text"/>; <c>false</c> for anything that is neither a code nor a class.</summary>
    public static bool TryParse(string text, out StatusMatcher matcher)
    {
        matcher = default;
        if (text.Length != 3)
        {
            return false;
        }

        if (text[0] is >= '1' and <= '5' && text[1] is 'x' or 'X' && text[2] is 'x' or 'X')
        {
            var low = (text[0] - '0') * 100;
            matcher = new StatusMatcher(low, low + 99);
            return true;
        }

        if (text.All(char.IsAsciiDigit)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            && code is >= 100 and <= 599)
        {
            matcher = new StatusMatcher(code, code);
            return true;
        }

        return false;
    }
}
