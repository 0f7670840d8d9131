using Sidecar.AccessLog;
using Sidecar.BodyReplay;
using Sidecar.Forwarding;
using Sidecar.Grpc;
using Sidecar.Hedging;
using Sidecar.Overload;
using Sidecar.Policies;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// The entry point of every proxied request, placed in YARP's proxy pipeline before load balancing. Before it,
/// Hosting's <c>RequestTargetGuard</c> refused CONNECT and over-limit bodies and YARP matched the route.
/// 1. Admission (Overload/): while memory is short, answer 503; while <c>limits.max_concurrent_requests</c> are in flight
///    or the route holds its share of them, wait for one to end (bounded in time and count), then 503.
/// 2. Hop-by-hop: remove the fields the caller's <c>Connection</c> header names, read the caller's <c>x-sidecar-*</c>
///    overrides where the policy allows them, and strip those headers (Retries/<see cref="ControlHeaders"/>).
/// 3. The route's plan comes from the current snapshot (Routing/<see cref="RouteTable"/>). No policy: forward once
///    (<see cref="SingleAttemptForwarder"/>).
/// 4. Policy: work out the deadline and attempt limit, and keep a copy of the body for replay as it is forwarded
///    (BodyReplay/: a stream is never held back), in the buffer room reserved at admission; once memory is short a new
///    copy waits for room in line with the others (Overload/<see cref="RequestAdmission"/>). An idempotent request
///    on a policy with <c>hedge</c> reads its whole body, then races its attempts instead (Hedging/<see cref="HedgeRace"/>, through YARP by <see cref="HedgedForwarder"/>).
/// 5. Otherwise the attempts run in Retries/<see cref="AttemptLoop"/>, sent through YARP by <see cref="YarpAttemptSender"/>;
///    each response is decided by Retries/<see cref="RetryDecider"/> from <see cref="RetryResponseTransform"/>.
/// 6. The request is counted and traced (<see cref="RequestCompletion"/>), retries summarized in the log (Logging/),
///    and its access log line written when <c>logs.access</c> selects it (AccessLog/<see cref="AccessLogRecorder"/>,
///    which also sets the <c>x-sidecar-explain</c> header a caller asked for where the policy allows it).
/// </summary>
internal sealed class RequestDispatchMiddleware
{
    private readonly RequestDelegate _next;
    private readonly TlsFailureLog _tlsLog;
    private readonly SidecarConfigStore _store;
    private readonly AttemptLoop _loop;
    private readonly SingleAttemptForwarder _single;
    private readonly HedgedForwarder _hedger;
    private readonly BufferedBytesAccount _bufferedBytes;
    private readonly RequestAdmission _admission;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly AccessLogRecorder _accessLog;

    public RequestDispatchMiddleware(RequestDelegate next, SidecarConfigStore store, AttemptLoop loop, SingleAttemptForwarder single, HedgedForwarder hedger, BufferedBytesAccount bufferedBytes, RequestAdmission admission, SidecarMetrics metrics, TimeProvider timeProvider, AccessLogRecorder accessLog, TlsFailureLog tlsLog)
    {
        _accessLog = accessLog;
        _tlsLog = tlsLog;
        _next = next;
        _store = store;
        _loop = loop;
        _single = single;
        _hedger = hedger;
        _bufferedBytes = bufferedBytes;
        _admission = admission;
        _metrics = metrics;
        _timeProvider = timeProvider;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (context.Request.Headers.Connection.Count != 0)
        {
            ConnectionOptions.RemoveNamedIn(context.Request.Headers);
        }

        var proxyFeature = context.GetReverseProxyFeature();
        var route = _store.RouteTable.Find(proxyFeature.Route.Config.RouteId);
        var copyBytes = CopyBytes(context.Request, route);
        var entry = _admission.TryEnter(route?.InFlight, copyBytes, out var shed);
        if (!entry.Admitted)
        {
            return shed == OverloadAction.ConcurrencyLimit
                ? WaitForSlotAsync(context, proxyFeature, route, copyBytes)
                : RejectAsync(context, route, shed);
        }

        // Let in: the first request of a new connection no longer holds its pending-connection slot.
        ConnectionSlots.PendingConnection.Admitted(context);
        return DispatchAsync(context, proxyFeature, route, entry, _timeProvider.GetTimestamp());
    }

    /// <summary>
    /// At <c>max_concurrent_requests</c>: waits for a request to end (Overload/<see cref="RequestAdmission"/>), then
    /// serves it with what is left of its time; else 503, at once when it is not expected to get a slot in time. The
    /// wait counts in the request's duration and deadline, as the caller sees them.
    /// </summary>
    private async Task WaitForSlotAsync(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan? route, long copyBytes)
    {
        _metrics.OverloadShed(OverloadAction.RequestQueued.Label());
        var arrived = _timeProvider.GetTimestamp();
        var (maxWait, isDeadline) = MaxWait(context, route, arrived);
        var entry = await _admission.WaitToEnterAsync(route?.InFlight, copyBytes, maxWait, isDeadline, context.RequestAborted);
        if (!entry.Admitted)
        {
            await RejectAsync(context, route, OverloadAction.ConcurrencyLimit);
            return;
        }

        ConnectionSlots.PendingConnection.Admitted(context);

        await DispatchAsync(context, proxyFeature, route, entry, arrived);
    }

    /// <summary>
    /// How long a request that arrived at <paramref name="arrived"/> may wait for a slot: until its deadline, or
    /// <c>limits.max_queue_wait</c> without one, less what it already waited before Sidecar read it. A burst larger than
    /// the pod serves in time waits in the kernel's accept queue as well as in line; counting only the line, the last
    /// callers of a 1,000-request burst in a 64 MiB pod waited past their own 60 s timeout.
    /// </summary>
    private (TimeSpan MaxWait, bool IsDeadline) MaxWait(HttpContext context, RoutePlan? route, long arrived)
    {
        var deadline = AttemptTiming.Deadline(_timeProvider, arrived, route?.Retry?.Options, context.Request.Headers);
        var waited = ConnectionSlots.PendingConnection.WaitedSinceReceived(context);
        return deadline == long.MaxValue
            ? (_store.Config.Limits.MaxQueueWait - waited, false)
            : (_timeProvider.GetElapsedTime(arrived, deadline) - waited, true);
    }

    private Task DispatchAsync(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan? route, AdmissionEntry entry, long arrived)
    {
        if (route?.Retry is { } plan)
        {
            return ForwardWithPolicyAsync(context, proxyFeature, route, plan, entry, arrived);
        }

        if (ControlHeaders.Any(context.Request.Headers))
        {
            ControlHeaders.Strip(context.Request.Headers);
        }

        return _single.ForwardAsync(context, _next, proxyFeature, route);
    }

    private async Task ForwardWithPolicyAsync(HttpContext context, IReverseProxyFeature proxyFeature, RoutePlan route, RetryPlan plan, AdmissionEntry entry, long start)
    {
        var request = context.Request;
        var options = plan.Options;
        var maxAttempts = options.AllowOverrides ? ControlHeaders.MaxAttempts(request.Headers, options.MaxAttempts) : options.MaxAttempts;
        var deadline = AttemptTiming.Deadline(_timeProvider, start, options, request.Headers);
        var explain = false;
        if (ControlHeaders.Any(request.Headers))
        {
            explain = options.AllowExplain && ExplainHeader.IsRequested(request.Headers);
            ControlHeaders.Strip(request.Headers);
        }

        var state = new RetryState(route, plan, maxAttempts, start, deadline, Idempotency.IsIdempotent(request, options.Methods)) { IsGrpc = GrpcProtocol.IsGrpc(request) };
        context.Features.Set(state);
        _accessLog.Begin(context, state, explain);
        plan.Cluster.Budget.RecordRequest();
        _metrics.RequestStarted();
        using var requestActivity = SidecarActivitySource.StartRequest(route.RouteName, request.Method, request.Headers);
        var requestAborted = context.RequestAborted;
        ReplayableRequestBody? body = null;
        // Kestrel's own reader, taken before the body stream is replaced (after that, BodyReader wraps the new stream).
        var callerBody = HasBody(request) ? request.BodyReader : null;
        var outcome = RequestOutcome.Success;
        try
        {
            var bufferLimit = options.BufferLimit;
            if (entry.CopyShed)
            {
                // Memory is short and no copy held will end to make room: forward this body once, not retried.
                bufferLimit = 0;
                state.BufferingShed = true;
                _metrics.OverloadShed(OverloadAction.BodyNotBuffered.Label());
            }

            if (options.Hedge is not null && state.IsIdempotent && route.Breaker is null && !IsUpgrade(context))
            {
                // Hedged attempts read the body at the same time, so it is read whole before the first one.
                bool replayable;
                (body, replayable) = await ReplayableRequestBody.TryBufferAsync(request, bufferLimit, _bufferedBytes, requestAborted);
                state.BodyReplayable = replayable;
                if (replayable)
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
                bool replayable;
                (body, replayable) = ReplayableRequestBody.Tee(request, bufferLimit, _bufferedBytes);
                state.BodyReplayable = replayable;
                state.Body = body;
            }

            outcome = await _loop.RunAsync(state, new YarpAttemptSender(_next, context, proxyFeature, route, body, _metrics, _tlsLog, callerBody), requestAborted);
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            // The caller left while its body was being buffered or during a wait: nothing to answer.
            outcome = RequestOutcome.ClientCancelled;
        }
        catch (BadHttpRequestException ex)
        {
            outcome = RequestOutcome.NotRetryable;
            await ErrorAnswers.CallerBodyAsync(context, route.RouteName, ex, _metrics);
        }
        finally
        {
            // The copy first: the buffer room it gives back may let the next waiting request in.
            body?.Dispose();
            _admission.Exit(route.InFlight, entry.CopyBytes);
            state.ReleaseRetrySlot();
            _metrics.RequestEnded();
            var duration = _timeProvider.GetElapsedTime(start);
            outcome = RequestCompletion.Record(context, route, plan.Name, outcome, state.Attempt, duration, requestActivity, _metrics);
            _accessLog.Complete(context, state, outcome, duration, requestActivity);
            if (outcome == RequestOutcome.Exhausted)
            {
                route.Log.Exhausted();
            }
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
            _metrics.RequestCompleted(route.RouteName, route.PolicyLabel, context.Request.Method, RequestOutcome.Overloaded, Http.StatusClass.Of(StatusCodes.Status503ServiceUnavailable), 0, TimeSpan.Zero);
        }

        var written = OverloadResponse.WriteAsync(context, route?.RouteName, action);
        if (route is not null)
        {
            _accessLog.Complete(context, route, RequestOutcome.Overloaded, attempts: 0, TimeSpan.Zero, activity: null, single: null);
        }

        return written;
    }

    private static bool HasBody(HttpRequest request) =>
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>()?.CanHaveBody != false
        && request.ContentLength is not 0;

    /// <summary>
    /// The buffer room a request wants for its replay copy: on a policy route, its body's length when it fits
    /// <c>buffer_limit</c>, or all of that limit when the length is not known; 0 with no body or a larger one.
    /// </summary>
    private static long CopyBytes(HttpRequest request, RoutePlan? route)
    {
        if (route?.Retry is not { } plan || !HasBody(request))
        {
            return 0;
        }

        var limit = plan.Options.BufferLimit;
        return request.ContentLength is { } length ? (length <= limit ? length : 0) : limit;
    }

    /// <summary>WebSocket and other upgrades switch protocols on the caller's connection: never hedged.</summary>
    private static bool IsUpgrade(HttpContext context) =>
        context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpUpgradeFeature>()?.IsUpgradableRequest == true
        || context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpExtendedConnectFeature>()?.IsExtendedConnect == true;
}
