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
                error = $"missing unit ({AllowedUnits}), e.g. '{number.ToString(CultureInfo.InvariantCulture)}s'";
                return false;
            default:
                error = $"unknown duration unit '{unit}' (allowed: {AllowedUnits})";
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

    private static string Invariant(long number, string unit) => number.ToString(CultureInfo.InvariantCulture) + unit;
}
