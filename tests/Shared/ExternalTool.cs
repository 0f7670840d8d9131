using Xunit.Abstractions;

namespace Sidecar.TestSupport;

/// <summary>
/// Finds an external program (promtool, prometheus, ...) for tests that drive one. A developer machine
/// with only the .NET SDK skips those tests with a message; CI (<c>CI=true</c>) fails them instead, so a
/// missing package never turns into a silently green build.
/// </summary>
internal static class ExternalTool
{
    private static readonly string[] FallbackDirectories = ["/usr/local/bin", "/usr/bin", "/bin"];

    /// <summary>True when the environment variable <c>CI</c> is <c>true</c>.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of <paramref name="name"/> on <c>PATH</c> (or a standard bin directory), or null.</summary>
    public static string? Find(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var directories = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(FallbackDirectories);
        var fileNames = OperatingSystem.IsWindows() ? new[] { name + ".exe", name } : [name];
        foreach (var directory in directories)
        {
            foreach (var fileName in fileNames)
            {
                var candidate = Path.Combine(directory, fileName);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The path of <paramref name="name"/>. When it is missing: in CI the test fails with the install
    /// hint; elsewhere this writes the hint to the test output and returns null, and the test returns early.
    /// </summary>
    /// <param name="name">The program, e.g. <c>promtool</c>.</param>
    /// <param name="output">The test's output.</param>
    /// <param name="package">The Debian package that provides it, for the message; defaults to <paramref name="name"/>.</param>
    /// <param name="installHint">How to install it when no Debian package does (replaces the apt-get hint).</param>
    public static string? Require(string name, ITestOutputHelper output, string? package = null, string? installHint = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        var found = Find(name);
        if (found is not null)
        {
            return found;
        }

        var message = $"{name} missing: {installHint ?? "apt-get install " + (package ?? name)}";
        if (IsCi)
        {
            Assert.Fail(message);
        }

        output.WriteLine($"SKIPPED: {message} (this test fails instead when CI=true).");
        return null;
    }
}
