namespace Sidecar.Configuration;

/// <summary>"Did you mean" suggestions for misspelt keys and names.</summary>
internal static class Spelling
{
    /// <summary>
    /// The candidate closest to <paramref name="input"/> by edit distance, ignoring case and <c>-</c>/<c>_</c>,
    /// or <c>null</c> when none is close enough to be a likely typo.
    /// </summary>
    public static string? Closest(string input, IEnumerable<string> candidates)
    {
        var normalizedInput = Normalize(input);
        var threshold = Math.Clamp(normalizedInput.Length / 3, 1, 3);
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var distance = Distance(normalizedInput, Normalize(candidate));
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return bestDistance <= threshold ? best : null;
    }

    /// <summary><c>" (did you mean 'x'?)"</c> or an empty string.</summary>
    public static string DidYouMean(string input, IEnumerable<string> candidates) =>
        Closest(input, candidates) is { } closest ? $" (did you mean '{closest}'?)" : string.Empty;

    private static string Normalize(string value) => value.ToLowerInvariant().Replace('-', '_');

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), substitution);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
