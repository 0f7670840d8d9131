using System.Text;

namespace Sidecar.Tests.TestSupport;

/// <summary>Deterministic random header-ish strings for parser fuzz tests: short, mostly digits, signs, units and date pieces.</summary>
public static class FuzzStrings
{
    private static readonly string[] Pieces =
    [
        "0", "1", "9", "12", "-", "+", " ", "\t", ",", ":", ".", "e", "H", "M", "S", "m", "u", "n", "x", "GMT",
        "Sun", "Sunday", "Nov", "06", "1994", "08:49:37", "99999999999999999999", "٣", "\u0000", "\uFFFF", "é",
    ];

    /// <summary><paramref name="count"/> strings from a fixed seed, plus fixed edge cases and mutations of <paramref name="seeds"/>.</summary>
    public static IEnumerable<string?> Generate(int count, int seed, params string[] seeds)
    {
        yield return null;
        yield return string.Empty;
        yield return new string('9', 10_000);
        yield return "-" + new string('9', 10_000);

        var random = new Random(seed);
        var builder = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Clear();
            if (seeds.Length > 0 && random.Next(2) == 0)
            {
                // Mutate a valid value: replace, drop or duplicate one character.
                builder.Append(seeds[random.Next(seeds.Length)]);
                var at = random.Next(builder.Length);
                switch (random.Next(3))
                {
                    case 0:
                        builder[at] = (char)random.Next(0x20, 0x7F);
                        break;
                    case 1:
                        builder.Remove(at, 1);
                        break;
                    default:
                        builder.Insert(at, builder[at]);
                        break;
                }
            }
            else
            {
                var parts = random.Next(1, 6);
                for (var p = 0; p < parts; p++)
                {
                    builder.Append(Pieces[random.Next(Pieces.Length)]);
                }
            }

            yield return builder.ToString();
        }
    }
}
