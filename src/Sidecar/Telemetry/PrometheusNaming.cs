using System.Text;

namespace Sidecar.Telemetry;

/// <summary>
/// OpenTelemetry → Prometheus name translation, after the OpenTelemetry "Prometheus and OpenMetrics
/// Compatibility" specification: invalid characters become <c>_</c>, the unit is appended as a word
/// unless the name already ends with it, and monotonic counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNaming
{
    public static string MetricName(string instrumentName, string? unit, bool isCounter)
    {
        var name = Sanitize(instrumentName, allowColon: true);
        var unitSuffix = UnitSuffix(unit);
        if (unitSuffix.Length > 0 && !name.EndsWith("_" + unitSuffix, StringComparison.Ordinal))
        {
            name = name + "_" + unitSuffix;
        }

        if (isCounter && !name.EndsWith("_total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        return name;
    }

    public static string LabelName(string tagName) => Sanitize(tagName, allowColon: false);

    /// <summary>Maps a UCUM unit to its Prometheus word; <c>{annotations}</c> carry no unit.</summary>
    public static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit) || unit == "1")
        {
            return string.Empty;
        }

        // "{request}" or "By{compressed}": the annotation is a comment, not a unit.
        var brace = unit.IndexOf('{', StringComparison.Ordinal);
        if (brace >= 0)
        {
            unit = unit[..brace];
            if (unit.Length == 0)
            {
                return string.Empty;
            }
        }

        var slash = unit.IndexOf('/', StringComparison.Ordinal);
        if (slash > 0)
        {
            return UnitWord(unit[..slash]) + "_per_" + PerUnitWord(unit[(slash + 1)..]);
        }

        return UnitWord(unit);
    }

    private static string UnitWord(string unit) => unit switch
    {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "bit" => "bits",
        "Hz" => "hertz",
        "%" => "percent",
        _ => Sanitize(unit, allowColon: false).Trim('_'),
    };

    private static string PerUnitWord(string unit) => unit switch
    {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        _ => UnitWord(unit),
    };

    private static string Sanitize(string name, bool allowColon)
    {
        var builder = new StringBuilder(name.Length + 1);
        var previousUnderscore = false;
        foreach (var c in name)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            var output = valid ? c : '_';
            if (output == '_' && previousUnderscore)
            {
                continue;
            }

            builder.Append(output);
            previousUnderscore = output == '_';
        }

        if (builder.Length == 0 || char.IsAsciiDigit(builder[0]))
        {
            builder.Insert(0, '_');
        }

        return builder.ToString();
    }
}
