using System.IO.Pipelines;
using Sidecar.BodyReplay;
using Sidecar.Forwarding;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// <see cref="IAttemptSender"/> in the proxy: each attempt runs the rest of YARP's pipeline on the caller's own
/// context (load balancing, passive health, YARP's forwarder with the route's transforms, where
/// <see cref="RetryResponseTransform"/> has the response decided). One per request on a route with a policy.
/// </summary>
internal sealed class YarpAttemptSender : IAttemptSender
{
    private readonly RequestDelegate _next;
    private readonly HttpContext _context;
    private readonly IReverseProxyFeature _proxyFeature;
    private readonly RoutePlan _route;
    private readonly ReplayableRequestBody? _body;
    private readonly SidecarMetrics _metrics;
    private readonly TlsFailureLog? _tlsLog;
    private readonly PipeReader? _callerBody;
    private UntriedDestinations _destinations;
    private DestinationState? _probe;

    /// <param name="next">The rest of YARP's pipeline.</param>
    /// <param name="context">The caller's request.</param>
    /// <param name="proxyFeature">YARP's view of the route and its destinations.</param>
    /// <param name="route">The route's plan.</param>
    /// <param name="body">The body kept for replay, when there is one.</param>
    /// <param name="metrics">Sidecar's instruments.</param>
    /// <param name="tlsLog">Where a refused TLS handshake is logged.</param>
    /// <param name="callerBody">Kestrel's reader of the caller's body (taken before the body stream was replaced); null without a body.</param>
    public YarpAttemptSender(RequestDelegate next, HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, ReplayableRequestBody? body, SidecarMetrics metrics, TlsFailureLog? tlsLog = null, PipeReader? callerBody = null)
    {
        _callerBody = callerBody;
        _tlsLog = tlsLog;
        _next = next;
        _context = context;
        _proxyFeature = proxyFeature;
        _route = route;
        _body = body;
        _metrics = metrics;
        _destinations = new UntriedDestinations(proxyFeature.AvailableDestinations);
    }

    public bool ResponseStarted => _context.Response.HasStarted;

    public bool TryPrepareRetry(RetryState state)
    {
        _context.Response.Clear();
        _context.Features.Set<IForwarderErrorFeature>(null);
        _proxyFeature.AvailableDestinations = _destinations.Next();
        if (_body is not null)
        {
            if (!state.BodyReplayable)
            {
                return false;
            }

            _context.Request.Body = _body.OpenStream();
        }

        return true;
    }

    public bool TryPassCircuit()
    {
        _probe = null;
        return _route.Breaker is not { } breaker || breaker.TryNarrow(_proxyFeature, out _probe);
    }

    public async ValueTask<SentAttempt> SendAsync(RetryState state, CancellationToken attemptAborted)
    {
        // Not for gRPC: a client stream is always "still arriving", and HTTP/2 passes early answers on by itself.
        state.ExpectContinue = _callerBody is not null && !state.IsGrpc && CallerBodyRead.IsStillArriving(_callerBody);
        var requestAborted = _context.RequestAborted;
        _context.RequestAborted = attemptAborted;
        try
        {
            await _next(_context);
        }
        finally
        {
            _context.RequestAborted = requestAborted;
        }

        var destination = _proxyFeature.ProxiedDestination;
        if (destination is not null)
        {
            _destinations.Tried(destination);
        }

        var invalid = _context.Features.Get<InvalidUpstreamResponse>() is not null;
        var error = _context.Features.Get<IForwarderErrorFeature>();
        CircuitRecorder.Record(_context, _proxyFeature, _route, invalid ? StatusCodes.Status502BadGateway : state.ResponseStatus, invalid ? null : error, _probe, _metrics);
        var failure = error is null ? null : new TransportFailure(TransportErrorClassifier.Classify(error.Error, error.Exception, timedOut: false), error.Error.ToString(), error.Exception?.Message ?? string.Empty);

        return new SentAttempt(_context.Response.StatusCode, failure, invalid, destination?.Model.Config.Address);
    }

    public Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        var route = _route.RouteName;
        return answer switch
        {
            LoopAnswer.CircuitOpen => ErrorAnswers.CircuitOpenAsync(_context, _route, attempts),
            LoopAnswer.BodyNotReplayable => ErrorAnswers.BodyNotReplayableAsync(_context, route, attempts),
            LoopAnswer.DeadlineBeforeAttempt => ErrorAnswers.DeadlineBeforeAttemptAsync(_context, route, attempts),
            LoopAnswer.TimedOutAfterCommit => ErrorAnswers.TimedOutAsync(_context, route, attempts, outcome),
            LoopAnswer.InvalidResponse => ErrorAnswers.InvalidResponseAsync(_context, route, attempts),
            _ => _context.Features.Get<IForwarderErrorFeature>() is { } error
                ? ErrorAnswers.NoResponseAsync(_context, route, attempts, outcome, error, timedOut, _tlsLog, _metrics)
                // No forwarder error: the response arrived as the attempt's timer fired and was not sent (RetryDecider).
                : timedOut ? ErrorAnswers.TimedOutAsync(_context, route, attempts, outcome) : Task.CompletedTask,
        };
    }
}
