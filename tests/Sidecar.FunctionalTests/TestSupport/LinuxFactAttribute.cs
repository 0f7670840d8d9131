using System.Globalization;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>A test of Linux's own socket behaviour (read from <c>/proc</c>): reported Skipped elsewhere, with why.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class LinuxFactAttribute : FactAttribute
{
    /// <summary>The least <c>net.core.somaxconn</c> the test needs: the kernel caps every listen backlog there.</summary>
    public int MinSomaxconn { get; set; }

    public override string? Skip
    {
        get => base.Skip ?? (!OperatingSystem.IsLinux() ? "reads Linux's socket tables (/proc/net)"
            : MinSomaxconn > 0 && Somaxconn() < MinSomaxconn ? $"net.core.somaxconn is {Somaxconn()}, below the {MinSomaxconn} the test needs"
            : null);
        set => base.Skip = value;
    }

    private static int Somaxconn() => int.Parse(File.ReadAllText("/proc/sys/net/core/somaxconn"), CultureInfo.InvariantCulture);
}
