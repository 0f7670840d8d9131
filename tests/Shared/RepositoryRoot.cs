namespace Sidecar.TestSupport;

/// <summary>The checkout under test: the folder holding <c>Sidecar.sln</c>, found by walking up from the test binaries.</summary>
internal static class RepositoryRoot
{
    private static readonly Lazy<string> Root = new(Find);

    public static string Path => Root.Value;

    /// <summary>An absolute path from a repository-relative one, e.g. <c>("charts", "sidecar", "Chart.yaml")</c>.</summary>
    public static string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public static string ReadAllText(params string[] parts) => File.ReadAllText(Combine(parts));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Sidecar.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Sidecar.sln above {AppContext.BaseDirectory}.");
    }
}
