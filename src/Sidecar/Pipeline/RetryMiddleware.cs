using Sidecar.BodyReplay;
using Sidecar.Configuration;
using Sidecar.Forwarding;
using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Overload;
using Sidecar.Policies;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// The attempt loop, placed in YARP's proxy pipeline before load balancing: the entry point of every proxied request.
/// Before it, Hosting's <c>RequestTargetGuard</c> refused CONNECT and over-limit bodies and YARP matched the route.
/// 1. Admission (Overload/): while memory is short or <c>limits.max_concurrent_requests</c> are in flight, answer 503.
/// 2. Hop-by-hop: remove the fields the caller's <c>Connection</c> header names, read the caller's <c>x-sidecar-*</c>
///    overrides where the policy allows them, and strip those headers (Retries/<see cref="ControlHeaders"/>).
/// 3. The route's plan comes from the current snapshot (Routing/<see cref="RouteTable"/>). No policy: forward once,
///    nothing buffered, no per-request state; a failure is answered with problem+json (Http/).
/// 4. Policy: work out the deadline and attempt limit, and keep a copy of the body for replay as it is forwarded
///    (BodyReplay/: a stream is never held back) unless the overload manager stopped buffering. An idempotent request
///    on a policy with <c>hedge</c> reads its whole body, then races its attempts instead (<see cref="HedgedForwarder"/>,
///    Hedging/).
/// 5. Per attempt: narrow the destinations to those whose circuit admits one (Resilience/), preferring ones not yet
///    tried, arm the per-try timer, and run the rest of YARP's pipeline (load balancing, passive health, forwarding
///    with the request and response transforms of Forwarding/ and <see cref="SidecarTransformProvider"/>).
/// 6. The response transform (<see cref="RetryResponseTransform"/>) has either committed the response (done) or
///    suppressed it and scheduled a retry through Retries/<see cref="RetryDecider"/> (wait the backoff of Policies/,
///    loop). A transport error with no response is decided here the same way; if no retry follows, the caller gets a
///    502 (no response), 504 (deadline) or the error YARP produced.
/// 7. Every attempt and the request are counted and traced (Telemetry/), retries summarized in the log (Logging/).
/// </summary>
internal sealed partial class RetryMiddleware
{
    /// <summary>
    /// The log category of the retry lines (README, "Logs"), which operators filter on: it names the retry concern,
    /// not the folder the class lives in, so it stays put when the code moves.
    /// </summary>
    public const string LogCategory = "Sidecar.Retries.RetryMiddleware";

    /// <summary>HTTP/2's REFUSED_STREAM error code.</summary>
    private const long RefusedStream = 0x7;

    private readonly RequestDelegate _next;
    private readonly SidecarConfigStore _store;
    private readonly RetryDecider _decider;
    private readonly HedgedForwarder _hedger;
    private readonly BufferedBytesAccount _bufferedBytes;
    private readonly RequestAdmission _admission;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;

    public RetryMiddleware(RequestDelegate next, SidecarConfigStore store, RetryDecider decider, HedgedForwarder hedger, BufferedBytesAccount bufferedBytes, RequestAdmission admission, SidecarMetrics metrics, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        _next = next;
        _store = store;
        _decider = decider;
        _hedger = hedger;
        _bufferedBytes = bufferedBytes;
        _admission = admission;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = loggerFactory.CreateLogger(LogCategory);
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers.Connection.Count != 0)
        {
            ConnectionOptions.RemoveNamedIn(context.Request.Headers);
        }

        var proxyFeature = context.GetReverseProxyFeature();
        var route = _store.RouteTable.Find(proxyFeature.Route.Config.RouteId);
        if (!_admission.TryEnter(out var shed))
        {
            return RejectAsync(context, route, shed);
        }

        if (route?.Retry is { } plan)
        {
            return ForwardWithRetriesAsync(context, proxyFeature, route, plan);
        }

        if (ControlHeaders.Any(context.Request.Headers))
        {
            ControlHeaders.Strip(context.Request.Headers);
        }

        return ForwardOnceAsync(context, proxyFeature, route);
    }

    private async Task ForwardOnceAsync(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan? route)
    {
        var start = _timeProvider.GetTimestamp();
        DestinationState? probe = null;
        if (route?.Breaker is { } breaker && !breaker.TryNarrow(proxyFeature, out probe))
        {
            _admission.Exit();
            _metrics.RequestCompleted(route.RouteName, route.PolicyLabel, context.Request.Method, RequestOutcome.CircuitOpen, StatusClass.Of(StatusCodes.Status503ServiceUnavailable), 0, _timeProvider.GetElapsedTime(start));
            await WriteCircuitOpenAsync(context, route, 0);
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
                await _next(context);
            }
            finally
            {
                _metrics.RequestEnded();
                _admission.Exit();
            }

            upstreamStatus = context.Response.StatusCode;
            error = context.Features.Get<IForwarderErrorFeature>();
            invalid = context.Features.Get<InvalidUpstreamResponse>();
            if (route is not null)
            {
                result = invalid is not null ? AttemptResult.InvalidResponse
                    : error is null ? AttemptResults.OfStatus(upstreamStatus) : ErrorResult(error, context.RequestAborted, timedOut: false);
                SidecarActivitySource.SetAttemptResult(attemptActivity, result, error is null && invalid is null ? upstreamStatus : 0);
            }
        }

        var duration = _timeProvider.GetElapsedTime(start);
        // No policy, no retry: a 5xx, a transport error or an invalid response is a failure Sidecar passed on.
        var outcome = context.RequestAborted.IsCancellationRequested ? RequestOutcome.ClientCancelled
            : error is null && invalid is null && upstreamStatus < StatusCodes.Status500InternalServerError ? RequestOutcome.Success : RequestOutcome.NotRetryable;
        if (invalid is not null)
        {
            await WriteInvalidResponseAsync(context, route?.RouteName, 1);
        }
        else if (error is not null && outcome != RequestOutcome.ClientCancelled)
        {
            await WriteNoResponseAsync(context, route?.RouteName, 1, outcome, error, timedOut: error.Error == ForwarderError.RequestTimedOut);
        }

        if (route is not null)
        {
            var grpcStatus = GrpcProtocol.IsGrpc(context.Request) ? FinalGrpcStatus(context, outcome) : -1;
            if (grpcStatus > 0 && outcome == RequestOutcome.Success)
            {
                outcome = RequestOutcome.NotRetryable;
            }

            _metrics.AttemptCompleted(route.RouteName, route.ClusterName, result, duration);
            _metrics.RequestCompleted(route.RouteName, route.PolicyLabel, context.Request.Method, outcome, CallerStatusClass(context, outcome), 1, duration, grpcStatus);
            SidecarActivitySource.SetRequestOutcome(requestActivity, outcome, 1, context.Response.StatusCode, grpcStatus);
            RecordCircuit(context, proxyFeature, route, invalid is null ? upstreamStatus : StatusCodes.Status502BadGateway, error, probe);
        }
    }

    private async Task ForwardWithRetriesAsync(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, RetryPlan plan)
    {
        var request = context.Request;
        var options = plan.Options;
        var start = _timeProvider.GetTimestamp();
        var maxAttempts = options.AllowOverrides ? ControlHeaders.MaxAttempts(request.Headers, options.MaxAttempts) : options.MaxAttempts;
        var deadline = Deadline(start, options.Timeout, ControlHeaders.CallerTimeout(request.Headers, options.AllowOverrides));
        if (ControlHeaders.Any(request.Headers))
        {
            ControlHeaders.Strip(request.Headers);
        }

        var state = new RetryState(route, plan, maxAttempts, start, deadline, IsIdempotent(request, options.Methods)) { IsGrpc = GrpcProtocol.IsGrpc(request) };
        context.Features.Set(state);
        plan.Cluster.Budget.RecordRequest();
        _metrics.RequestStarted();
        using var requestActivity = SidecarActivitySource.StartRequest(route.RouteName, request.Method, request.Headers);
        var requestAborted = context.RequestAborted;
        ReplayableRequestBody? body = null;
        var outcome = RequestOutcome.Success;
        try
        {
            var bufferLimit = options.BufferLimit;
            if (!_admission.BufferingAllowed && HasBodyWithin(request, bufferLimit))
            {
                // Memory is short: forward this body once rather than hold a copy of it for a retry.
                bufferLimit = 0;
                state.BufferingShed = true;
                _metrics.OverloadShed(OverloadAction.BodyNotBuffered.Label());
            }

            if (options.Hedge is not null && state.IsIdempotent && route.Breaker is null && !IsUpgrade(context))
            {
                // Hedged attempts read the body at the same time, so it is read whole before the first one.
                (body, state.BodyReplayable) = await ReplayableRequestBody.TryBufferAsync(request, bufferLimit, _bufferedBytes, requestAborted);
                if (state.BodyReplayable)
                {
                    int attempts;
                    (outcome, attempts) = await _hedger.ForwardAsync(context, proxyFeature, state, body, requestAborted);
                    state.BeginAttempt(attempts);
                    return;
                }
            }
            else
            {
                // Forwarded as it arrives, a copy kept on the way: a stream is never held back waiting for its end.
                (body, state.BodyReplayable) = ReplayableRequestBody.Tee(request, bufferLimit, _bufferedBytes);
                state.Body = body;
            }

            var destinations = proxyFeature.AvailableDestinations;
            List<DestinationState>? tried = null;
            for (var attempt = 1; ; attempt++)
            {
                state.BeginAttempt(attempt);
                if (attempt > 1)
                {
                    context.Response.Clear();
                    context.Features.Set<IForwarderErrorFeature>(null);
                    proxyFeature.AvailableDestinations = Untried(destinations, tried);
                    if (body is not null)
                    {
                        if (!state.BodyReplayable)
                        {
                            // A read under way when the retry was decided brought a byte past buffer_limit (or the pool):
                            // the body cannot be sent again, and the response the retry was decided on is gone.
                            outcome = RequestOutcome.NotRetryable;
                            await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "The request body could not be sent again", route.RouteName, attempt - 1, RetrySkipReasons.Label(RetrySkipReason.BodyNotReplayable));
                            break;
                        }

                        request.Body = body.OpenStream();
                    }
                }

                DestinationState? probe = null;
                if (route.Breaker is { } breaker && !breaker.TryNarrow(proxyFeature, out probe))
                {
                    outcome = RequestOutcome.CircuitOpen;
                    await WriteCircuitOpenAsync(context, route, attempt - 1);
                    break;
                }

                var attemptStart = _timeProvider.GetTimestamp();
                if (state.HasDeadline && attemptStart >= deadline)
                {
                    outcome = RequestOutcome.DeadlineExceeded;
                    await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Deadline exceeded before the upstream answered", route.RouteName, attempt - 1, RequestOutcome.DeadlineExceeded.Label());
                    break;
                }

                var attemptTime = AttemptTimeout(options.PerTryTimeout, state, attemptStart);
                state.AttemptDeadlineTimestamp = attemptTime is { } time ? attemptStart + (long)(time.TotalSeconds * _timeProvider.TimestampFrequency) : long.MaxValue;
                using var attemptTimeout = AttemptCancellationSource.Create(requestAborted, attemptTime, _timeProvider);
                state.AttemptTimeout = attemptTimeout;
                context.RequestAborted = attemptTimeout.Token;
                AttemptResult attemptResult;
                using (var attemptActivity = SidecarActivitySource.StartAttempt(route.RouteName, attempt))
                {
                    try
                    {
                        await _next(context);
                    }
                    finally
                    {
                        context.RequestAborted = requestAborted;
                        state.AttemptTimeout = null;
                    }

                    // One label for the span and for sidecar_upstream_attempts_total, per-try timeouts included.
                    var invalidResponse = context.Features.Get<InvalidUpstreamResponse>() is not null;
                    attemptResult = invalidResponse ? AttemptResult.InvalidResponse
                        : state.Verdict == AttemptVerdict.Pending ? TransportResult(context, attemptTimeout)
                        : AttemptResults.OfStatus(state.ResponseStatus);
                    SidecarActivitySource.SetAttemptResult(attemptActivity, attemptResult, state.Verdict == AttemptVerdict.Pending || invalidResponse ? 0 : state.ResponseStatus, state.GrpcStatus);
                }

                if (proxyFeature.ProxiedDestination is { } destination)
                {
                    (tried ??= []).Add(destination);
                }

                var attemptDuration = _timeProvider.GetElapsedTime(attemptStart);
                if (context.Features.Get<InvalidUpstreamResponse>() is not null)
                {
                    // Not retried: the upstream answered, so it may have acted, and what it answered was broken.
                    RecordCircuit(context, proxyFeature, route, StatusCodes.Status502BadGateway, null, probe);
                    _metrics.AttemptCompleted(route.RouteName, route.ClusterName, attemptResult, attemptDuration);
                    outcome = RequestOutcome.NotRetryable;
                    await WriteInvalidResponseAsync(context, route.RouteName, attempt);
                    break;
                }

                RecordCircuit(context, proxyFeature, route, state.ResponseStatus, context.Features.Get<IForwarderErrorFeature>(), probe);

                if (state.Verdict == AttemptVerdict.Commit)
                {
                    _metrics.AttemptCompleted(route.RouteName, route.ClusterName, attemptResult, attemptDuration);
                    outcome = requestAborted.IsCancellationRequested ? RequestOutcome.ClientCancelled : state.Outcome;
                    if (!requestAborted.IsCancellationRequested && attemptTimeout.IsCancellationRequested && !context.Response.HasStarted)
                    {
                        // The per-try/deadline timer fired between the commit and YARP's first body byte (found by
                        // Faults/ControlHeaderFuzzTests): nothing reached the caller, who would get YARP's bare 502.
                        outcome = RequestOutcome.DeadlineExceeded;
                        await ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The upstream did not answer in time", route.RouteName, attempt, outcome.Label());
                    }

                    break;
                }

                if (state.Verdict == AttemptVerdict.Retry)
                {
                    _metrics.AttemptCompleted(route.RouteName, route.ClusterName, attemptResult, attemptDuration);
                }
                else if (!TryScheduleAfterError(context, state, attemptTimeout, attemptResult, attemptDuration, out outcome))
                {
                    await FinishWithoutResponseAsync(context, state, outcome);
                    break;
                }

                _metrics.Retried(route.RouteName, state.RetryReason);
                route.Log.Retried(state.RetryReason);
                LogRetry(route.RouteName, attempt + 1, state.RetryReason, (long)state.RetryDelay.TotalMilliseconds);
                if (!await _decider.WaitAsync(state, requestAborted))
                {
                    outcome = RequestOutcome.ClientCancelled;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            // The caller left while its body was being buffered or during a wait: nothing to answer.
            outcome = RequestOutcome.ClientCancelled;
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's own request limits (body too large, bad chunking) while buffering: the caller's fault.
            outcome = RequestOutcome.NotRetryable;
            await ProblemResponse.WriteAsync(context, ex.StatusCode, "The request body could not be read", route.RouteName, 0, "bad_request", ex.Message);
        }
        finally
        {
            _admission.Exit();
            body?.Dispose();
            if (state.HoldsRetrySlot)
            {
                plan.RetrySlots.Exit();
            }

            _metrics.RequestEnded();
            var grpcStatus = state.IsGrpc ? FinalGrpcStatus(context, outcome) : -1;
            if (grpcStatus > 0 && outcome is RequestOutcome.Success or RequestOutcome.SuccessAfterRetry)
            {
                // HTTP 200 with a non-OK status in the trailers: the call failed, whatever the HTTP status says.
                outcome = RequestOutcome.NotRetryable;
            }

            _metrics.RequestCompleted(route.RouteName, plan.Name, request.Method, outcome, CallerStatusClass(context, outcome), state.Attempt, _timeProvider.GetElapsedTime(start), grpcStatus);
            if (outcome == RequestOutcome.Exhausted)
            {
                route.Log.Exhausted();
            }

            SidecarActivitySource.SetRequestOutcome(requestActivity, outcome, state.Attempt, context.Response.StatusCode, grpcStatus);
        }
    }

    /// <summary>
    /// A transport error (no response reached the transform). Connect failures never reached the upstream and are
    /// safe to retry for any method; resets and timeouts may have been processed, so they need an idempotent request.
    /// </summary>
    private bool TryScheduleAfterError(HttpContext context, RetryState state, CancellationTokenSource attemptTimeout, AttemptResult attemptResult, TimeSpan attemptDuration, out RequestOutcome outcome)
    {
        var requestAborted = context.RequestAborted;
        var error = context.Features.Get<IForwarderErrorFeature>();
        var timedOut = attemptTimeout.IsCancellationRequested && !requestAborted.IsCancellationRequested;
        state.AttemptTimedOut = timedOut;
        var route = state.Route;
        _metrics.AttemptCompleted(route.RouteName, route.ClusterName, attemptResult, attemptDuration);

        if (requestAborted.IsCancellationRequested)
        {
            outcome = RequestOutcome.ClientCancelled;
            return false;
        }

        if (error is null || context.Response.HasStarted)
        {
            // Something already answered (or started answering) the caller; nothing can be retried.
            outcome = RequestOutcome.NotRetryable;
            return false;
        }

        var deadlinePassed = state.HasDeadline && _timeProvider.GetTimestamp() >= state.DeadlineTimestamp;
        if (timedOut && deadlinePassed)
        {
            outcome = RequestOutcome.DeadlineExceeded;
            return false;
        }

        var (kind, reason) = Classify(error, timedOut);
        if (kind == RetryableErrors.None || !state.Plan.IsRetryableError(kind))
        {
            outcome = kind == RetryableErrors.None ? RequestOutcome.NotRetryable : RequestOutcome.Exhausted;
            return false;
        }

        return _decider.TryScheduleRetry(state, reason, requiresIdempotency: kind != RetryableErrors.ConnectFailure, serverDelay: null, serverForbids: false, out outcome);
    }

    private async Task FinishWithoutResponseAsync(HttpContext context, RetryState state, RequestOutcome outcome)
    {
        if (outcome == RequestOutcome.ClientCancelled || context.Response.HasStarted)
        {
            return;
        }

        var error = context.Features.Get<IForwarderErrorFeature>();
        if (error is null)
        {
            return;
        }

        var route = state.Route.RouteName;
        state.Route.Log.NoResponse();
        LogGaveUp(route, state.Attempt, error.Error, error.Exception?.Message ?? string.Empty);
        var timedOut = outcome == RequestOutcome.DeadlineExceeded || Classify(error, state.AttemptTimedOut).Kind == RetryableErrors.PerTryTimeout;
        await WriteNoResponseAsync(context, route, state.Attempt, outcome, error, timedOut);
    }

    /// <summary>
    /// The problem+json for a forwarding error, on routes with and without a policy: 504 when the attempt ran out of
    /// time (YARP's own timeout answers 504 too), 503 with no healthy destination, 400 when the caller's body broke
    /// off, else 502. YARP itself would leave a bare status with an empty body.
    /// </summary>
    private static Task WriteNoResponseAsync(HttpContext context, string? route, int attempts, RequestOutcome outcome, IForwarderErrorFeature errorFeature, bool timedOut)
    {
        var error = errorFeature.Error;
        var reason = outcome.Label();
        if (timedOut || IsTimeoutStatus(context))
        {
            return ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout, "The upstream did not answer in time", route, attempts, reason, error.ToString());
        }

        return error switch
        {
            ForwarderError.NoAvailableDestinations => ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "No healthy upstream destination", route, attempts, reason, error.ToString()),
            // Kestrel's own limits (a chunked body past MaxRequestBodySize is 413) keep their status.
            ForwarderError.RequestBodyClient => ProblemResponse.WriteAsync(context, CallerBodyStatus(errorFeature.Exception), "The request body could not be read", route, attempts, "bad_request", error.ToString()),
            _ => ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "No response from the upstream", route, attempts, reason, error.ToString()),
        };
    }

    /// <summary>The status Kestrel gives a body it refused (413 past MaxRequestBodySize), else 400.</summary>
    private static int CallerBodyStatus(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is BadHttpRequestException bad)
            {
                return bad.StatusCode;
            }
        }

        return StatusCodes.Status400BadRequest;
    }

    private static Task WriteInvalidResponseAsync(HttpContext context, string? route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, InvalidUpstreamResponse.ProblemTitle, route, attempts, InvalidUpstreamResponse.ProblemReason);

    private void RecordCircuit(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, int status, IForwarderErrorFeature? error, DestinationState? probe)
    {
        var destination = proxyFeature.ProxiedDestination;
        if (route.Breaker is { } breaker
            && breaker.RecordAttempt(destination, failure: error is not null || status >= 500, callerLeft: error is not null && context.RequestAborted.IsCancellationRequested, probe))
        {
            _metrics.CircuitOpened(route.ClusterName);
            route.Log.Cluster.CircuitOpened(destination!.DestinationId, breaker.Options.BreakDuration);
        }
    }

    private Task RejectAsync(HttpContext context, RoutePlan? route, OverloadAction action)
    {
        if (ControlHeaders.Any(context.Request.Headers))
        {
            ControlHeaders.Strip(context.Request.Headers);
        }

        _metrics.OverloadShed(action.Label());
        if (route is not null)
        {
            _metrics.RequestCompleted(route.RouteName, route.PolicyLabel, context.Request.Method, RequestOutcome.Overloaded, StatusClass.Of(StatusCodes.Status503ServiceUnavailable), 0, TimeSpan.Zero);
        }

        return OverloadResponse.WriteAsync(context, route?.RouteName, action);
    }

    private static Task WriteCircuitOpenAsync(HttpContext context, RoutePlan route, int attempts) =>
        ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "Circuit open: every destination of the cluster is failing", route.RouteName, attempts, RequestOutcome.CircuitOpen.Label());

    /// <summary>A body that would have been buffered had memory allowed: there is one, and it may fit the limit.</summary>
    private static bool HasBodyWithin(HttpRequest request, long limit) =>
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false
        && request.ContentLength is not 0
        && !(request.ContentLength > limit);

    /// <summary>WebSocket and other upgrades switch protocols on the caller's connection: never hedged.</summary>
    private static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;

    /// <summary>The <c>status_class</c> label: the class of the status the caller got, <c>none</c> when it left before any response went out.</summary>
    private static string CallerStatusClass(HttpContext context, RequestOutcome outcome) =>
        outcome == RequestOutcome.ClientCancelled && !context.Response.HasStarted ? StatusClass.None : StatusClass.Of(context.Response.StatusCode);

    /// <summary>
    /// The status a gRPC caller got: <c>grpc-status</c> from the trailers YARP passed on, else from the headers of a
    /// trailers-only answer (the upstream's or Sidecar's). A caller that left is CANCELLED; no status at all (the
    /// stream broke) is UNKNOWN.
    /// </summary>
    private static int FinalGrpcStatus(HttpContext context, RequestOutcome outcome)
    {
        if (outcome == RequestOutcome.ClientCancelled)
        {
            return GrpcStatus.Cancelled;
        }

        var trailers = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseTrailersFeature>()?.Trailers;
        var value = trailers is null ? default : trailers[GrpcProtocol.Status];
        if (value.Count == 0)
        {
            value = context.Response.Headers[GrpcProtocol.Status];
        }

        return value.Count == 1 && GrpcStatus.TryParseHeader(value[0], out var code) ? code : GrpcStatus.Unknown;
    }

    private static bool IsTimeoutStatus(HttpContext context) => context.Response.StatusCode == StatusCodes.Status504GatewayTimeout;

    private static (RetryableErrors Kind, string Reason) Classify(IForwarderErrorFeature error, bool timedOut)
    {
        if (timedOut || error.Error == ForwarderError.RequestTimedOut)
        {
            return (RetryableErrors.PerTryTimeout, RetryReason.PerTryTimeout);
        }

        return error.Error switch
        {
            ForwarderError.Request when IsConnectFailure(error.Exception) => (RetryableErrors.ConnectFailure, RetryReason.ConnectFailure),
            ForwarderError.Request or ForwarderError.ResponseHeaders or ForwarderError.RequestBodyDestination => (RetryableErrors.Reset, RetryReason.Reset),
            _ => (RetryableErrors.None, string.Empty),
        };
    }

    private static bool IsConnectFailure(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError })
            {
                return true;
            }

            // An HTTP/2 stream refused by the upstream was not processed (RFC 9113 §8.7): as safe to retry as a connect failure.
            if (current is HttpProtocolException { ErrorCode: RefusedStream })
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The result label of an attempt that reached no verdict: a transport error, a timeout, or the caller leaving.</summary>
    private static AttemptResult TransportResult(HttpContext context, CancellationTokenSource attemptTimeout)
    {
        var requestAborted = context.RequestAborted;
        var error = context.Features.Get<IForwarderErrorFeature>();
        var timedOut = attemptTimeout.IsCancellationRequested && !requestAborted.IsCancellationRequested;
        return error is null ? AttemptResults.OfStatus(context.Response.StatusCode) : ErrorResult(error, requestAborted, timedOut);
    }

    private static AttemptResult ErrorResult(IForwarderErrorFeature error, CancellationToken requestAborted, bool timedOut)
    {
        if (requestAborted.IsCancellationRequested)
        {
            return AttemptResult.Cancelled;
        }

        return Classify(error, timedOut).Kind switch
        {
            RetryableErrors.ConnectFailure => AttemptResult.ConnectFailure,
            RetryableErrors.Reset => AttemptResult.Reset,
            RetryableErrors.PerTryTimeout => AttemptResult.PerTryTimeout,
            _ => AttemptResult.Error,
        };
    }

    private long Deadline(long start, TimeSpan? policyTimeout, TimeSpan? callerTimeout)
    {
        var timeout = policyTimeout;
        if (callerTimeout is { } caller && (timeout is null || caller < timeout))
        {
            timeout = caller;
        }

        if (timeout is not { } value)
        {
            return long.MaxValue;
        }

        return start + (long)(value.TotalSeconds * _timeProvider.TimestampFrequency);
    }

    private TimeSpan? AttemptTimeout(TimeSpan? perTry, RetryState state, long now)
    {
        if (!state.HasDeadline)
        {
            return perTry;
        }

        var remaining = _timeProvider.GetElapsedTime(now, state.DeadlineTimestamp);
        return perTry is { } p && p < remaining ? p : remaining;
    }

    private static bool IsIdempotent(HttpRequest request, IReadOnlySet<string> methods)
    {
        if (methods.Contains(request.Method))
        {
            return true;
        }

        // An Idempotency-Key makes POST and PATCH safe to repeat (draft-ietf-httpapi-idempotency-key-header), as long
        // as it names one operation: a blank or repeated key lets the upstream deduplicate nothing.
        if (!HttpMethods.IsPost(request.Method) && !HttpMethods.IsPatch(request.Method))
        {
            return false;
        }

        var key = request.Headers[SidecarHeaders.IdempotencyKey];
        return key.Count == 1 && !string.IsNullOrWhiteSpace(key[0]);
    }

    /// <summary>Envoy's <c>previous_hosts</c>: a retry prefers destinations not tried yet, falling back to all of them.</summary>
    private static IReadOnlyList<DestinationState> Untried(IReadOnlyList<DestinationState> all, List<DestinationState>? tried)
    {
        if (tried is null || all.Count <= 1)
        {
            return all;
        }

        List<DestinationState>? untried = null;
        foreach (var destination in all)
        {
            if (!tried.Contains(destination))
            {
                (untried ??= new List<DestinationState>(all.Count)).Add(destination);
            }
        }

        return untried ?? all;
    }

    // Per retry and per request, so Debug: at the default level the route's summary line counts them (Logging/RetryLog).
    [LoggerMessage(EventId = 200, Level = LogLevel.Debug, Message = "Retrying route {Route}: attempt {Attempt} after {Reason}, waiting {DelayMs} ms")]
    private partial void LogRetry(string route, int attempt, string reason, long delayMs);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Route {Route}: no usable response after {Attempts} attempts ({Error}: {Message})")]
    private partial void LogGaveUp(string route, int attempts, ForwarderError error, string message);
}
