using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Sidecar.Configuration;

/// <summary>
/// Parses configuration durations: a non-negative decimal number directly followed by exactly one unit,
/// <c>ms</c>, <c>s</c>, <c>m</c> or <c>h</c> (<c>250ms</c>, <c>2s</c>, <c>1.5s</c>, <c>1m</c>). Units are lower case;
/// a bare number, a sign, an exponent, whitespace or a compound like <c>1m30s</c> is rejected.
/// </summary>
internal static class DurationParser
{
    /// <summary>The units accepted, for messages.</summary>
    public const string AllowedUnits = "ms, s, m, h";

    /// <summary>Parses <paramref name="text"/>; <c>false</c> on any malformed input.</summary>
    public static bool TryParse(string? text, out TimeSpan value) => TryParse(text, out value, out _);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong, e.g. <c>missing unit (ms, s, m, h)</c>.</summary>
    public static bool TryParse(string? text, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        value = default;
        if (!DecimalWithUnit.TrySplit(text, "duration", out var number, out var unit, out error))
        {
            // "2 seconds", "500 ms": the number and a unit a person would write, with spaces between.
            if (text is not null && text.Any(char.IsWhiteSpace) && Suggest(string.Concat(text.Where(c => !char.IsWhiteSpace(c)))) is { } spaced)
            {
                error += $"; did you mean {spaced}?";
            }

            return false;
        }

        long ticksPerUnit;
        switch (unit)
        {
            case "ms":
                ticksPerUnit = TimeSpan.TicksPerMillisecond;
                break;
            case "s":
                ticksPerUnit = TimeSpan.TicksPerSecond;
                break;
            case "m":
                ticksPerUnit = TimeSpan.TicksPerMinute;
                break;
            case "h":
                ticksPerUnit = TimeSpan.TicksPerHour;
                break;
            case "":
                error = $"missing unit ({AllowedUnits}); did you mean {WithLikelyUnit(number)}?";
                return false;
            default:
                error = $"unknown duration unit '{unit}' (allowed: {AllowedUnits})"
                    + (UnitSpellings.GetValueOrDefault(unit.ToLowerInvariant()) is { } meant ? $"; did you mean '{Invariant(number, meant)}'?" : string.Empty);
                return false;
        }

        if (number > (decimal)TimeSpan.MaxValue.Ticks / ticksPerUnit)
        {
            error = "duration is too large";
            return false;
        }

        value = TimeSpan.FromTicks((long)Math.Round(number * ticksPerUnit, MidpointRounding.AwayFromZero));
        return true;
    }

    /// <summary>Formats a duration the way it would be written in the file: <c>250ms</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>.</summary>
    public static string Format(TimeSpan value)
    {
        var ticks = value.Ticks;
        if (ticks != 0 && ticks % TimeSpan.TicksPerHour == 0)
        {
            return Invariant(ticks / TimeSpan.TicksPerHour, "h");
        }

        if (ticks != 0 && ticks % TimeSpan.TicksPerMinute == 0)
        {
            return Invariant(ticks / TimeSpan.TicksPerMinute, "m");
        }

        if (ticks >= TimeSpan.TicksPerSecond || ticks <= -TimeSpan.TicksPerSecond)
        {
            return ((decimal)ticks / TimeSpan.TicksPerSecond).ToString("0.#######", CultureInfo.InvariantCulture) + "s";
        }

        return ((decimal)ticks / TimeSpan.TicksPerMillisecond).ToString("0.####", CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>The units as people spell them in prose, mapped to the unit the file takes.</summary>
    private static readonly Dictionary<string, string> UnitSpellings = new(StringComparer.Ordinal)
    {
        ["ms"] = "ms", ["msec"] = "ms", ["msecs"] = "ms", ["millis"] = "ms", ["millisecond"] = "ms", ["milliseconds"] = "ms",
        ["s"] = "s", ["sec"] = "s", ["secs"] = "s", ["second"] = "s", ["seconds"] = "s",
        ["m"] = "m", ["min"] = "m", ["mins"] = "m", ["minute"] = "m", ["minutes"] = "m",
        ["h"] = "h", ["hr"] = "h", ["hrs"] = "h", ["hour"] = "h", ["hours"] = "h",
    };

    /// <summary>
    /// A bare number with the unit its writer most likely meant, quoted: a large one is milliseconds (<c>2000</c>: two
    /// seconds, not half an hour); a small one could be either (<c>50</c> as a backoff base, <c>15</c> as a timeout).
    /// </summary>
    private static string WithLikelyUnit(decimal number) =>
        number >= 100 ? $"'{Invariant(number, "ms")}'" : $"'{Invariant(number, "s")}' or '{Invariant(number, "ms")}'";

    /// <summary>What <paramref name="text"/> (spaces removed) most likely meant in the file's spelling, quoted, or null.</summary>
    private static string? Suggest(string text)
    {
        if (!DecimalWithUnit.TrySplit(text, "duration", out var number, out var unit, out _))
        {
            return null;
        }

        return unit.Length == 0 ? WithLikelyUnit(number)
            : UnitSpellings.GetValueOrDefault(unit.ToLowerInvariant()) is { } meant ? $"'{Invariant(number, meant)}'" : null;
    }

    private static string Invariant(decimal number, string unit) => number.ToString(CultureInfo.InvariantCulture) + unit;

    private static string Invariant(long number, string unit) => number.ToString(CultureInfo.InvariantCulture) + unit;
}
