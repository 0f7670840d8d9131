using Sidecar.Http;
using Sidecar.Retries;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Forwarding;

/// <summary>
/// Runs first on every upstream response of every route, after YARP has copied status and headers and before any
/// byte reaches the caller:
/// 1. A response HTTP does not allow (<see cref="InvalidUpstreamResponse"/>) is suppressed and marked; the retry
///    middleware answers 502 problem+json.
/// 2. Fields the upstream's <c>Connection</c> header names are removed (<see cref="ConnectionOptions"/>).
/// 3. Upstream copies of Sidecar's own <c>x-sidecar-*</c> headers are removed: what those say is Sidecar's to say.
///    Sidecar sets its own afterwards (<c>x-sidecar-attempts</c> here for routes without a policy, the retry transform's
///    for the others).
/// </summary>
internal sealed partial class UpstreamResponseTransform : ResponseTransform
{
    private static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly LogThrottle _warnings;
    private readonly ILogger<UpstreamResponseTransform> _logger;

    public UpstreamResponseTransform(TimeProvider timeProvider, ILogger<UpstreamResponseTransform> logger)
    {
        _warnings = new LogThrottle(timeProvider, WarningInterval);
        _logger = logger;
    }

    public override ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var response = context.ProxyResponse;
        if (response is null)
        {
            return ValueTask.CompletedTask;
        }

        var httpContext = context.HttpContext;
        if (InvalidUpstreamResponse.Check(httpContext, response) is { } invalid)
        {
            httpContext.Features.Set(invalid);
            context.SuppressResponseBody = true;
            Log(httpContext, invalid, (int)response.StatusCode);
            return ValueTask.CompletedTask;
        }

        var headers = httpContext.Response.Headers;
        var upstreamHeaders = response.Headers.NonValidated;
        if (upstreamHeaders.TryGetValues(Microsoft.Net.Http.Headers.HeaderNames.Connection, out var connection))
        {
            foreach (var value in connection)
            {
                ConnectionOptions.RemoveNamedIn(value, headers);
            }
        }

        if (HasSidecarHeader(upstreamHeaders))
        {
            ControlHeaders.Strip(headers);
            if (httpContext.Features.Get<RetryState>() is null)
            {
                headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(1);
            }
        }

        return ValueTask.CompletedTask;
    }

    private static bool HasSidecarHeader(System.Net.Http.Headers.HttpHeadersNonValidated headers)
    {
        foreach (var header in headers)
        {
            if (header.Key.StartsWith(SidecarHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private void Log(HttpContext context, InvalidUpstreamResponse invalid, int status)
    {
        var route = context.GetReverseProxyFeature().Route.Config.RouteId;
        if (_warnings.TryAcquire())
        {
            LogInvalidWarning(route, status, invalid.Reason, _warnings.Interval);
        }
        else
        {
            LogInvalid(route, status, invalid.Reason);
        }
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Route {Route}: invalid upstream response (status {Status}: {Reason}), answered 502; further ones within {Interval} are logged at Debug and counted as sidecar_upstream_attempts_total{{result=\"invalid_response\"}}")]
    private partial void LogInvalidWarning(string route, int status, string reason, TimeSpan interval);

    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Route {Route}: invalid upstream response (status {Status}: {Reason}), answered 502")]
    private partial void LogInvalid(string route, int status, string reason);
}
