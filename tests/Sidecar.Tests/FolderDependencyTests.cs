using System.Text.RegularExpressions;

namespace Sidecar.Tests;

/// <summary>
/// The folders of src/Sidecar depend on each other one way, from the outside in (README, "Layout"): read from the
/// <c>using Sidecar.*</c> lines and <c>Sidecar.X.</c> qualified names of every source file, the folder graph has no
/// cycle, and each file's namespace is its folder, so those lines tell the truth.
/// </summary>
public sealed partial class FolderDependencyTests
{
    private const string RootFolder = "(root)";

    [Fact]
    public void SourceFolders_DependOnEachOtherWithoutCycles()
    {
        var edges = ReadFolderGraph();

        var cycle = FindCycle(edges);

        Assert.True(cycle is null, $"Folders depend on each other in a circle: {string.Join(" -> ", cycle ?? [])}");
    }

    [Fact]
    public void SourceFiles_NamespaceIsTheirFolder()
    {
        var wrong = new List<string>();
        foreach (var (folder, path, text) in SourceFiles())
        {
            var expected = folder == RootFolder ? "Sidecar" : "Sidecar." + folder;
            var declared = NamespaceLine().Match(text);
            if (!declared.Success || declared.Groups[1].Value != expected)
            {
                wrong.Add($"{path}: namespace {(declared.Success ? declared.Groups[1].Value : "(none)")}, expected {expected}");
            }
        }

        Assert.Empty(wrong);
    }

    [Fact]
    public void FindCycle_GraphWithACircle_ReturnsIt()
    {
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
        {
            ["Cli"] = ["Hosting"],
            ["Hosting"] = ["Retries", "Configuration"],
            ["Retries"] = ["Routing"],
            ["Routing"] = ["Retries"],
            ["Configuration"] = [],
        };

        Assert.Equal(["Retries", "Routing", "Retries"], FindCycle(edges));
    }

    [Fact]
    public void FindCycle_LayeredGraph_Null()
    {
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
        {
            ["Cli"] = ["Hosting", "Configuration"],
            ["Hosting"] = ["Retries", "Configuration"],
            ["Retries"] = ["Configuration"],
        };

        Assert.Null(FindCycle(edges));
    }

    /// <summary>Folder → folders it names in a using line or a qualified name (comments and XML docs included).</summary>
    internal static Dictionary<string, HashSet<string>> ReadFolderGraph()
    {
        var edges = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var (folder, _, text) in SourceFiles())
        {
            if (!edges.TryGetValue(folder, out var targets))
            {
                edges[folder] = targets = new HashSet<string>(StringComparer.Ordinal);
            }

            foreach (Match reference in FolderReference().Matches(NamespaceLine().Replace(text, string.Empty)))
            {
                var target = reference.Groups[1].Value;
                if (target != folder && Directory.Exists(RepositoryRoot.Combine("src", "Sidecar", target)))
                {
                    targets.Add(target);
                }
            }
        }

        return edges;
    }

    /// <summary>A path that returns to its start (first and last element equal), or null when the graph has none.</summary>
    internal static List<string>? FindCycle(IReadOnlyDictionary<string, HashSet<string>> edges)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var start in edges.Keys.Order(StringComparer.Ordinal))
        {
            if (Visit(start) is { } cycle)
            {
                return cycle;
            }
        }

        return null;

        // 0 unseen, 1 on the current path, 2 done.
        List<string>? Visit(string node)
        {
            switch (state.GetValueOrDefault(node))
            {
                case 1:
                    return [.. path[path.IndexOf(node)..], node];
                case 2:
                    return null;
            }

            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node, []).Order(StringComparer.Ordinal))
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    private static IEnumerable<(string Folder, string Path, string Text)> SourceFiles()
    {
        var root = RepositoryRoot.Combine("src", "Sidecar");
        foreach (var path in Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(root, path).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal))
            {
                continue;
            }

            var slash = relative.IndexOf('/', StringComparison.Ordinal);
            yield return (slash < 0 ? RootFolder : relative[..slash], relative, File.ReadAllText(path));
        }
    }

    [GeneratedRegex(@"^namespace ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"\bSidecar\.([A-Z]\w*)\b")]
    private static partial Regex FolderReference();
}
