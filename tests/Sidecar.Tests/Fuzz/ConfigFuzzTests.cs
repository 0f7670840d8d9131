using System.Text;
using Sidecar.Configuration;
using Xunit.Abstractions;

namespace Sidecar.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of the config loader: the shipped YAML files, damaged the ways hand edits and bad merges damage
/// them, must always come back as a result (never an exception), and every error must point at a real place.
/// </summary>
public sealed class ConfigFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20_251_107;
    private const int CasesPerFile = 3_000;

    private static readonly string[] Tokens =
    [
        ":", "- ", "[", "]", "{", "}", ",", "\"", "'", "#", "&a", "*a", "!!str", "---", "...", "|", ">", "?", "\t",
        "0", "-1", "1e309", "250ms", "8MiB", "true", "null", "~", "policy", "cluster", "destinations", "max_attempts",
        "http://", "{**rest}", "\u00e9", "\uFEFF", "\0",
    ];

    public static TheoryData<string> Files()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepositoryRoot.Combine("config", "examples"), "*.yaml").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetRelativePath(RepositoryRoot.Path, file));
        }

        data.Add(Path.Combine("config", "sidecar.yaml"));
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Parse_MutatedShippedConfig_ReturnsResultWithLocatedErrors(string file)
    {
        var original = RepositoryRoot.ReadAllText(file);
        // Named by its full path, as the loader is given it: files a config names (tls) are relative to its folder.
        var source = Path.Combine(RepositoryRoot.Path, file);
        Assert.True(SidecarConfigLoader.Parse(original, source).Succeeded, "the unmutated file must load");
        // string.GetHashCode is randomised per process; the seed must not be.
        var random = new Random(Seed + StableHash(file));
        var failures = 0;
        for (var i = 0; i < CasesPerFile; i++)
        {
            var mutated = Mutate(original, random);
            ConfigLoadResult result;
            try
            {
                result = SidecarConfigLoader.Parse(mutated, source);
            }
            catch (Exception ex)
            {
                Assert.Fail($"case {i}: Parse threw {ex}\n--- input ---\n{mutated}");
                throw;
            }

            Assert.NotNull(result);
            if (result.Succeeded)
            {
                continue;
            }

            failures++;
            Assert.NotEmpty(result.Errors);
            foreach (var error in result.Errors)
            {
                if (error.Line < 1 || error.Column < 1 || string.IsNullOrWhiteSpace(error.Message))
                {
                    Assert.Fail($"case {i}: error without a location or message: '{error}'\n--- input ---\n{mutated}");
                }
            }
        }

        output.WriteLine($"{file}: {CasesPerFile} cases, {failures} rejected with located errors");
    }

    private static int StableHash(string text)
    {
        var hash = 17;
        foreach (var c in text)
        {
            hash = unchecked((hash * 31) + c);
        }

        return hash & int.MaxValue;
    }

    /// <summary>One to three mutations of the kinds hand edits produce.</summary>
    private static string Mutate(string yaml, Random random)
    {
        var text = yaml;
        var count = random.Next(1, 4);
        for (var m = 0; m < count; m++)
        {
            text = random.Next(6) switch
            {
                0 => FlipByte(text, random),
                1 => EditLines(text, random, duplicate: false),
                2 => EditLines(text, random, duplicate: true),
                3 => Reindent(text, random),
                4 => SwapTokens(text, random),
                _ => InsertToken(text, random),
            };
        }

        return text;
    }

    private static string FlipByte(string text, Random random)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return text;
        }

        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
        return Encoding.UTF8.GetString(bytes);
    }

    private static string EditLines(string text, Random random, bool duplicate)
    {
        var lines = new List<string>(text.Split('\n'));
        var at = random.Next(lines.Count);
        if (duplicate)
        {
            lines.Insert(at, lines[at]);
        }
        else
        {
            lines.RemoveAt(at);
        }

        return string.Join('\n', lines);
    }

    private static string Reindent(string text, Random random)
    {
        var lines = text.Split('\n');
        var at = random.Next(lines.Length);
        var line = lines[at];
        lines[at] = random.Next(3) switch
        {
            0 => line.TrimStart(),
            1 => new string(' ', random.Next(1, 5)) + line,
            _ => line.Length > 0 && line[0] == ' ' ? line[1..] : "\t" + line,
        };
        return string.Join('\n', lines);
    }

    private static string SwapTokens(string text, Random random)
    {
        var words = text.Split(' ');
        if (words.Length < 2)
        {
            return text;
        }

        var a = random.Next(words.Length);
        var b = random.Next(words.Length);
        (words[a], words[b]) = (words[b], words[a]);
        return string.Join(' ', words);
    }

    private static string InsertToken(string text, Random random)
    {
        var at = random.Next(text.Length + 1);
        return text.Insert(at, Tokens[random.Next(Tokens.Length)]);
    }
}
