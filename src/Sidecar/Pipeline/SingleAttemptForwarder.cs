using Sidecar.AccessLog;
using Sidecar.Forwarding;
using Sidecar.Http;
using Sidecar.Overload;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// A route without a policy: one attempt through the rest of YARP's pipeline, nothing buffered, no per-request state.
/// A failure is answered with problem+json instead of YARP's bare status, and the circuit (if the cluster has one)
/// is consulted and told.
/// </summary>
internal sealed class SingleAttemptForwarder
{
    private readonly RequestAdmission _admission;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly AccessLogRecorder _accessLog;

    private readonly TlsFailureLog? _tlsLog;

    public SingleAttemptForwarder(RequestAdmission admission, SidecarMetrics metrics, TimeProvider timeProvider, AccessLogRecorder accessLog, TlsFailureLog? tlsLog = null)
    {
        _accessLog = accessLog;
        _tlsLog = tlsLog;
        _admission = admission;
        _metrics = metrics;
        _timeProvider = timeProvider;
    }

    /// <summary>Forwards the admitted request once; exits the admission when done.</summary>
    public async Task ForwardAsync(HttpContext context, RequestDelegate next, IReverseProxyFeature proxyFeature, RoutePlan? route)
    {
        var start = _timeProvider.GetTimestamp();
        DestinationState? probe = null;
        if (route?.Breaker is { } breaker && !breaker.TryNarrow(proxyFeature, out probe))
        {
            _admission.Exit(route.InFlight);
            _metrics.RequestCompleted(route.RouteName, route.PolicyLabel, context.Request.Method, RequestOutcome.CircuitOpen, StatusClass.Of(StatusCodes.Status503ServiceUnavailable), 0, _timeProvider.GetElapsedTime(start));
            await ErrorAnswers.CircuitOpenAsync(context, route, 0);
            _accessLog.Complete(context, route, RequestOutcome.CircuitOpen, attempts: 0, _timeProvider.GetElapsedTime(start), activity: null, single: null);
            return;
        }

        _metrics.RequestStarted();
        context.Response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(1);
        // Both are null (and free) unless a tracer listens to the Sidecar source.
        using var requestActivity = route is null ? null : SidecarActivitySource.StartRequest(route.RouteName, context.Request.Method, context.Request.Headers);
        var result = AttemptResult.Error;
        IForwarderErrorFeature? error;
        InvalidUpstreamResponse? invalid;
        var upstreamStatus = 0;
        using (var attemptActivity = route is null ? null : SidecarActivitySource.StartAttempt(route.RouteName, 1))
        {
            try
            {
                await next(context);
            }
            finally
            {
                _metrics.RequestEnded();
                _admission.Exit(route?.InFlight);
            }

            upstreamStatus = context.Response.StatusCode;
            error = context.Features.Get<IForwarderErrorFeature>();
            invalid = context.Features.Get<InvalidUpstreamResponse>();
            if (route is not null)
            {
                result = invalid is not null ? AttemptResult.InvalidResponse
                    : error is null ? AttemptResults.OfStatus(upstreamStatus)
                    : context.RequestAborted.IsCancellationRequested ? AttemptResult.Cancelled
                    : TransportErrorClassifier.Classify(error.Error, error.Exception, timedOut: false).Result;
                SidecarActivitySource.SetAttemptResult(attemptActivity, result, error is null && invalid is null ? upstreamStatus : 0);
            }
        }

        var duration = _timeProvider.GetElapsedTime(start);
        // No policy, no retry: a 5xx, a transport error or an invalid response is a failure Sidecar passed on.
        var outcome = context.RequestAborted.IsCancellationRequested ? RequestOutcome.ClientCancelled
            : error is null && invalid is null && upstreamStatus < StatusCodes.Status500InternalServerError ? RequestOutcome.Success : RequestOutcome.NotRetryable;
        if (invalid is not null)
        {
            await ErrorAnswers.InvalidResponseAsync(context, route?.RouteName, 1);
        }
        else if (error is not null && outcome != RequestOutcome.ClientCancelled)
        {
            await ErrorAnswers.NoResponseAsync(context, route?.RouteName, 1, outcome, error, timedOut: error.Error == ForwarderError.RequestTimedOut, _tlsLog, _metrics);
        }

        if (route is not null)
        {
            _metrics.AttemptCompleted(route.RouteName, route.ClusterName, result, duration);
            outcome = RequestCompletion.Record(context, route, route.PolicyLabel, outcome, 1, duration, requestActivity, _metrics);
            _accessLog.Complete(context, route, outcome, attempts: 1, duration, requestActivity, new AttemptRecord(1, proxyFeature.ProxiedDestination?.Model.Config.Address, error is null && invalid is null ? upstreamStatus : 0, result, duration));
            CircuitRecorder.Record(context, proxyFeature, route, invalid is null ? upstreamStatus : StatusCodes.Status502BadGateway, error, probe, _metrics);
        }
    }
}
