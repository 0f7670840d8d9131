using Microsoft.Extensions.Logging.Testing;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>What the tests look for in the log records of a <see cref="RunningSidecar"/>.</summary>
public static class SidecarLogAssertions
{
    /// <summary>Whether any record's message contains <paramref name="text"/>.</summary>
    public static bool Contains(this FakeLogCollector logs, string text) =>
        logs.GetSnapshot().Any(r => r.Message.Contains(text, StringComparison.Ordinal));

    /// <summary>
    /// Error-level records that mean a bug rather than a bad request: anything from Sidecar's own categories, and any
    /// exception logged at Error (Kestrel's "unhandled exception" for a request the app failed to answer).
    /// </summary>
    public static IReadOnlyList<FakeLogRecord> Bugs(this FakeLogCollector logs) =>
        logs.GetSnapshot().Where(r => r.Level >= LogLevel.Error && (r.Exception is not null || (r.Category?.StartsWith("Sidecar", StringComparison.Ordinal) ?? false))).ToList();

    /// <summary>Fails with the offending records when <see cref="Bugs"/> found any.</summary>
    public static void AssertNoBugs(this FakeLogCollector logs)
    {
        var bugs = logs.Bugs();
        Assert.True(bugs.Count == 0, "unexpected error logs:\n" + string.Join('\n', bugs.Take(5).Select(b => $"{b.Category} {b.Level}: {b.Message} {b.Exception}")));
    }
}
