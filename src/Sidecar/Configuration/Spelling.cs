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

    /// <summary>Optimal string alignment distance: Levenshtein plus adjacent transpositions ("GTE" → "GET" is 1).</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
