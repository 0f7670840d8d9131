using System.Collections.Concurrent;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>Keeps every log line Sidecar writes so tests can assert on what an operator would read.</summary>
public sealed class LogCapture : ILoggerProvider
{
    public ConcurrentQueue<LogLine> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public bool Contains(string text) => Lines.Any(l => l.Message.Contains(text, StringComparison.Ordinal));

    /// <summary>
    /// Error-level lines that mean a bug rather than a bad request: anything from Sidecar's own categories, and any
    /// exception logged at Error (Kestrel's "unhandled exception" for a request the app failed to answer).
    /// </summary>
    public IReadOnlyList<LogLine> Bugs() =>
        Lines.Where(l => l.Level >= LogLevel.Error && (l.Exception is not null || l.Category.StartsWith("Sidecar", StringComparison.Ordinal))).ToList();

    /// <summary>Fails with the offending lines when <see cref="Bugs"/> found any.</summary>
    public void AssertNoBugs()
    {
        var bugs = Bugs();
        Assert.True(bugs.Count == 0, "unexpected error logs:\n" + string.Join('\n', bugs.Take(5).Select(b => $"{b.Category} {b.Level}: {b.Message} {b.Exception}")));
    }

    public sealed record LogLine(string Category, LogLevel Level, int EventId, string Message, Exception? Exception);

    private sealed class Logger(LogCapture owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue(new LogLine(category, logLevel, eventId.Id, formatter(state, exception), exception));
    }
}
