using System.Globalization;
using System.Text.RegularExpressions;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>Reads samples out of Prometheus text exposition (as served on <c>/metrics</c>) for assertions.</summary>
public static partial class PrometheusText
{
    /// <summary>
    /// The value of the one sample named <paramref name="name"/> whose labels include every pair in
    /// <paramref name="labels"/> (<c>"route=jobs"</c>), or null when there is none. More than one match fails the test.
    /// </summary>
    public static double? Value(string text, string name, params string[] labels)
    {
        ArgumentNullException.ThrowIfNull(text);
        double? found = null;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            if (!match.Success || match.Groups["name"].Value != name)
            {
                continue;
            }

            var present = LabelPair().Matches(match.Groups["labels"].Value).Select(m => m.Groups[1].Value + "=" + m.Groups[2].Value).ToHashSet(StringComparer.Ordinal);
            if (!labels.All(present.Contains))
            {
                continue;
            }

            Assert.True(found is null, $"more than one {name} sample has labels {string.Join(',', labels)}:\n{text}");
            found = double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        return found;
    }

    /// <summary>The sum of every sample named <paramref name="name"/> whose labels include every pair in <paramref name="labels"/>; 0 when none does.</summary>
    public static double Sum(string text, string name, params string[] labels)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sum = 0d;
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var match = SampleLine().Match(line);
            if (line.StartsWith('#') || !match.Success || match.Groups["name"].Value != name)
            {
                continue;
            }

            var present = LabelPair().Matches(match.Groups["labels"].Value).Select(m => m.Groups[1].Value + "=" + m.Groups[2].Value).ToHashSet(StringComparer.Ordinal);
            if (labels.All(present.Contains))
            {
                sum += double.Parse(match.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
