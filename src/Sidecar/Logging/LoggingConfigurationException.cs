namespace Sidecar.Logging;

/// <summary>The host's logging configuration names a level that does not exist; thrown before anything listens.</summary>
internal sealed class LoggingConfigurationException : Exception
{
    public LoggingConfigurationException(IReadOnlyList<string> errors)
        : base("Invalid logging configuration:\n" + string.Join('\n', errors)) => Errors = errors;

    public IReadOnlyList<string> Errors { get; }
}
