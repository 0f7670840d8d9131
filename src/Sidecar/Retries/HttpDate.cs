namespace Sidecar.Retries;

/// <summary>
/// An allocation-free parser for RFC 9110 §5.6.7 HTTP-date in its three forms:
/// <list type="bullet">
/// <item><description>IMF-fixdate (preferred): <c>Sun, 06 Nov 1994 08:49:37 GMT</c></description></item>
/// <item><description>obsolete RFC 850: <c>Sunday, 06-Nov-94 08:49:37 GMT</c></description></item>
/// <item><description>obsolete ANSI C asctime: <c>Sun Nov  6 08:49:37 1994</c></description></item>
/// </list>
/// Day and month names and <c>GMT</c> are matched case-insensitively (the RFC says case-sensitive, but being lenient
/// here only ever makes us honour a server's wish); the weekday is not checked against the date.
/// </summary>
internal static class HttpDate
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static readonly string[] ShortDays = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

    private static readonly string[] LongDays = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

    /// <summary>Parses one HTTP-date with no surrounding whitespace.</summary>
    /// <param name="value">The date text.</param>
    /// <param name="currentYear">The current UTC year, for the two-digit years of RFC 850 dates.</param>
    /// <param name="date">The instant, in UTC.</param>
    public static bool TryParse(ReadOnlySpan<char> value, int currentYear, out DateTimeOffset date)
    {
        date = default;
        var comma = value.IndexOf(',');
        int day, month, year, hour, minute, second;
        if (comma == 3)
        {
            // IMF-fixdate: day-name "," SP 2DIGIT SP month SP 4DIGIT SP time-of-day SP "GMT"
            if (value.Length != 29
                || !IsOneOf(value[..3], ShortDays)
                || value[4] != ' ' || !TryTwoDigits(value[5..7], out day)
                || value[7] != ' ' || !TryMonth(value[8..11], out month)
                || value[11] != ' ' || !TryFourDigits(value[12..16], out year)
                || value[16] != ' ' || !TryTime(value[17..25], out hour, out minute, out second)
                || !value[25..].Equals(" GMT", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }
        else if (comma > 3)
        {
            // RFC 850: day-name-l "," SP 2DIGIT "-" month "-" 2DIGIT SP time-of-day SP "GMT"
            var rest = value[(comma + 1)..];
            if (rest.Length != 23
                || !IsOneOf(value[..comma], LongDays)
                || rest[0] != ' ' || !TryTwoDigits(rest[1..3], out day)
                || rest[3] != '-' || !TryMonth(rest[4..7], out month)
                || rest[7] != '-' || !TryTwoDigits(rest[8..10], out var twoDigitYear)
                || rest[10] != ' ' || !TryTime(rest[11..19], out hour, out minute, out second)
                || !rest[19..].Equals(" GMT", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            year = ExpandTwoDigitYear(twoDigitYear, currentYear);
        }
        else if (comma < 0)
        {
            // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time-of-day SP 4DIGIT
            if (value.Length != 24
                || !IsOneOf(value[..3], ShortDays)
                || value[3] != ' ' || !TryMonth(value[4..7], out month)
                || value[7] != ' ' || !TryAsctimeDay(value[8..10], out day)
                || value[10] != ' ' || !TryTime(value[11..19], out hour, out minute, out second)
                || value[19] != ' ' || !TryFourDigits(value[20..24], out year))
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        if (year < 1 || day < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        // A leap second (second 60) is read as the next second, except at the very end of the calendar.
        date = new DateTimeOffset(year, month, day, hour, minute, Math.Min(second, 59), TimeSpan.Zero);
        if (second == 60 && date < DateTimeOffset.MaxValue.AddSeconds(-1))
        {
            date = date.AddSeconds(1);
        }

        return true;
    }

    // RFC 9110 §5.6.7: a two-digit year that appears more than 50 years in the future is the most recent
    // past year with those digits. Symmetrically, one more than 50 years in the past belongs to the next century.
    private static int ExpandTwoDigitYear(int twoDigitYear, int currentYear)
    {
        var year = (currentYear / 100 * 100) + twoDigitYear;
        if (year > currentYear + 50)
        {
            year -= 100;
        }
        else if (year + 100 <= currentYear + 50)
        {
            year += 100;
        }

        return Math.Clamp(year, 1, 9999);
    }

    private static bool TryTime(ReadOnlySpan<char> value, out int hour, out int minute, out int second)
    {
        minute = 0;
        second = 0;
        return TryTwoDigits(value[..2], out hour) && hour <= 23
            && value[2] == ':' && TryTwoDigits(value[3..5], out minute) && minute <= 59
            && value[5] == ':' && TryTwoDigits(value[6..8], out second) && second <= 60;
    }

    private static bool TryAsctimeDay(ReadOnlySpan<char> value, out int day)
    {
        if (value[0] == ' ' && char.IsAsciiDigit(value[1]))
        {
            day = value[1] - '0';
            return true;
        }

        return TryTwoDigits(value, out day);
    }

    private static bool TryMonth(ReadOnlySpan<char> value, out int month)
    {
        for (var i = 0; i < Months.Length; i++)
        {
            if (value.Equals(Months[i], StringComparison.OrdinalIgnoreCase))
            {
                month = i + 1;
                return true;
            }
        }

        month = 0;
        return false;
    }

    private static bool IsOneOf(ReadOnlySpan<char> value, string[] names)
    {
        foreach (var name in names)
        {
            if (value.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryTwoDigits(ReadOnlySpan<char> value, out int number)
    {
        if (char.IsAsciiDigit(value[0]) && char.IsAsciiDigit(value[1]))
        {
            number = ((value[0] - '0') * 10) + (value[1] - '0');
            return true;
        }

        number = 0;
        return false;
    }

    private static bool TryFourDigits(ReadOnlySpan<char> value, out int number)
    {
        number = 0;
        if (!TryTwoDigits(value[..2], out var high) || !TryTwoDigits(value[2..], out var low))
        {
            return false;
        }

        number = (high * 100) + low;
        return true;
    }
}
