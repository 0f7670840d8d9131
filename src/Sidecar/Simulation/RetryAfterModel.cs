using System.Globalization;
using Sidecar.Configuration;

namespace Sidecar.Simulation;

/// <summary>
/// The <c>Retry-After</c> the upstream sends with its failures: whole seconds (the header's delta-seconds form), a
/// fixed value (<c>2s</c>) or a uniform range (<c>1s..5s</c>).
/// </summary>
internal sealed record RetryAfterModel(int MinSeconds, int MaxSeconds)
{
    public static RetryAfterModel Fixed(int seconds) => new(seconds, seconds);

    /// <summary>The header value, given a uniform draw in [0, 1).</summary>
    public string Sample(double u) =>
        (MinSeconds + (int)(u * (MaxSeconds - MinSeconds + 1))).ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses <c>none</c>, a duration, or <c>duration..duration</c>; null with no error for <c>none</c>.</summary>
    public static bool TryParse(string text, out RetryAfterModel? model, out string? error)
    {
        model = null;
        if (text == "none")
        {
            error = null;
            return true;
        }

        var dots = text.IndexOf("..", StringComparison.Ordinal);
        var (low, high) = dots < 0 ? (text, text) : (text[..dots], text[(dots + 2)..]);
        if (!TryParseSeconds(low, out var min, out error) || !TryParseSeconds(high, out var max, out error))
        {
            return false;
        }

        if (max < min)
        {
            error = "the range's end is below its start";
            return false;
        }

        model = new RetryAfterModel(min, max);
        return true;
    }

    private static bool TryParseSeconds(string text, out int seconds, out string? error)
    {
        seconds = 0;
        if (!DurationParser.TryParse(text, out var value, out error))
        {
            return false;
        }

        if (value.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            error = $"'{text}' is not whole seconds (Retry-After carries seconds)";
            return false;
        }

        seconds = (int)value.TotalSeconds;
        return true;
    }
}
