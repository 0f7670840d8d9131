using Sidecar.Forwarding;

namespace Sidecar.Pipeline;

/// <summary>
/// A Warning for a request answered 502 because a TLS handshake was refused: it fails the same way until someone
/// fixes a certificate, so it must show at the default level, and a busy caller must not flood the log with it:
/// one line per <see cref="Interval"/>, the rest at Debug (the attempts are counted under result <c>tls</c>).
/// </summary>
internal sealed partial class TlsFailureLog
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    private readonly ILogger<TlsFailureLog> _logger;
    private readonly LogThrottle _throttle;

    public TlsFailureLog(ILogger<TlsFailureLog> logger, TimeProvider timeProvider)
    {
        _logger = logger;
        _throttle = new LogThrottle(timeProvider, Interval);
    }

    public void Failed(string? route, string detail)
    {
        if (_throttle.TryAcquire())
        {
            LogWarning(route ?? "-", detail);
        }
        else
        {
            LogDebug(route ?? "-", detail);
        }
    }

    [LoggerMessage(EventId = 810, Level = LogLevel.Warning, Message = "Route {Route}: TLS handshake refused, answered 502: {Detail} (at most one such line per 10s; the rest at Debug)")]
    private partial void LogWarning(string route, string detail);

    [LoggerMessage(EventId = 811, Level = LogLevel.Debug, Message = "Route {Route}: TLS handshake refused, answered 502: {Detail}")]
    private partial void LogDebug(string route, string detail);
}
