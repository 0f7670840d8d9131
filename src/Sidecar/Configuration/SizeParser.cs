using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Sidecar.Configuration;

/// <summary>
/// Parses configuration sizes: a non-negative number directly followed by <c>B</c>, <c>KiB</c>, <c>MiB</c> or <c>GiB</c>
/// (1024-based, case-sensitive): <c>512B</c>, <c>64KiB</c>, <c>1.5MiB</c>. The result must be a whole number of bytes.
/// </summary>
/// <remarks>
/// <c>KB</c>, <c>MB</c> and <c>GB</c> are rejected rather than guessed: half of all readers take them as 1000-based and
/// half as 1024-based, and a buffer limit should mean the same to everyone. The error says to write <c>KiB</c>.
/// </remarks>
internal static class SizeParser
{
    /// <summary>The units accepted, for messages.</summary>
    public const string AllowedUnits = "B, KiB, MiB, GiB";

    /// <summary>Parses <paramref name="text"/>; <c>false</c> on any malformed input.</summary>
    public static bool TryParse(string? text, out long bytes) => TryParse(text, out bytes, out _);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says what is wrong, e.g. <c>missing unit (B, KiB, MiB, GiB)</c>.</summary>
    public static bool TryParse(string? text, out long bytes, [NotNullWhen(false)] out string? error)
    {
        bytes = 0;
        if (!DecimalWithUnit.TrySplit(text, "size", out var number, out var unit, out error))
        {
            return false;
        }

        long multiplier;
        switch (unit)
        {
            case "B":
                multiplier = 1;
                break;
            case "KiB":
                multiplier = 1L << 10;
                break;
            case "MiB":
                multiplier = 1L << 20;
                break;
            case "GiB":
                multiplier = 1L << 30;
                break;
            case "":
                error = $"missing unit ({AllowedUnits}), e.g. '{number.ToString(CultureInfo.InvariantCulture)}B'";
                return false;
            case "kB" or "KB" or "K" or "k" or "MB" or "M" or "GB" or "G" or "Kb" or "Mb" or "Gb":
                error = $"ambiguous size unit '{unit}': use {char.ToUpperInvariant(unit[0])}iB (1024-based) or write the bytes with 'B'";
                return false;
            default:
                error = $"unknown size unit '{unit}' (allowed: {AllowedUnits})";
                return false;
        }

        if (number > (decimal)long.MaxValue / multiplier)
        {
            error = "size is too large";
            return false;
        }

        var exact = number * multiplier;
        if (exact != decimal.Truncate(exact))
        {
            error = $"size '{text}' is not a whole number of bytes";
            return false;
        }

        bytes = (long)exact;
        return true;
    }

    /// <summary>Formats a byte count with the largest unit that divides it: <c>64KiB</c>, <c>8MiB</c>, <c>100B</c>.</summary>
    public static string Format(long bytes)
    {
        if (bytes != 0 && bytes % (1L << 30) == 0)
        {
            return (bytes >> 30).ToString(CultureInfo.InvariantCulture) + "GiB";
        }

        if (bytes != 0 && bytes % (1L << 20) == 0)
        {
            return (bytes >> 20).ToString(CultureInfo.InvariantCulture) + "MiB";
        }

        if (bytes != 0 && bytes % (1L << 10) == 0)
        {
            return (bytes >> 10).ToString(CultureInfo.InvariantCulture) + "KiB";
        }

        return bytes.ToString(CultureInfo.InvariantCulture) + "B";
    }
}
