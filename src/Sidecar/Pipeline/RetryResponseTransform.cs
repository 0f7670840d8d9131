using System.Net;
using Sidecar.Grpc;
using Sidecar.Hedging;
using Sidecar.Http;
using Sidecar.Retries;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Pipeline;

/// <summary>
/// Decides "retry or commit" for a response, at the only point YARP allows it: status and headers are known and no
/// byte has reached the caller (YARP sends the status and headers only after the response transforms have run). A retry suppresses the body (YARP disposes the upstream response);
/// a commit disarms the per-try timer and lets YARP stream the body.
/// </summary>
internal sealed class RetryResponseTransform : ResponseTransform
{
    private readonly RetryDecider _decider;
    private readonly ResponseConditionEvaluator _conditions;
    private readonly SidecarMetrics _metrics;

    public RetryResponseTransform(RetryDecider decider, ResponseConditionEvaluator conditions, SidecarMetrics metrics)
    {
        _decider = decider;
        _conditions = conditions;
        _metrics = metrics;
    }

    public override async ValueTask ApplyAsync(ResponseTransformContext context)
    {
        var state = context.HttpContext.Features.Get<RetryState>();
        var response = context.ProxyResponse;
        // Suppressed already: the upstream's response was invalid (UpstreamResponseTransform), nothing to decide on.
        if (state is null || response is null || context.SuppressResponseBody)
        {
            return;
        }

        var status = (int)response.StatusCode;
        state.ResponseStatus = status;
        context.HttpContext.Response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(state.Attempt);

        // An upgrade (101) is never suppressed: YARP switches protocols right after this transform.
        if (response.StatusCode == HttpStatusCode.SwitchingProtocols)
        {
            state.Commit(Succeeded(state));
            return;
        }

        var plan = state.Plan;
        string? reason = null;
        var validationFailed = false;
        var grpcCondition = false;
        if (state.IsGrpc && TryGetTrailersOnlyStatus(response, out var grpcStatus))
        {
            state.GrpcStatus = grpcStatus;
        }

        if (plan.IsRetryableStatus(status))
        {
            reason = SidecarHeaders.Number(status);
        }
        else if (state.GrpcStatus > 0 && plan.IsRetryableGrpc(state.GrpcStatus))
        {
            reason = GrpcStatus.RetryReason(state.GrpcStatus);
            grpcCondition = true;
        }
        else if (plan.Options.RetryOn.Headers.Count > 0 && plan.MatchesRetryHeader(response))
        {
            reason = RetryReason.Header;
        }
        else if (plan.Options.RetryUntil.Count > 0 && !await _conditions.AcceptsAsync(plan, response, context.CancellationToken))
        {
            reason = RetryReason.Validation;
            validationFailed = true;
        }

        if (state.Hedge is { } hedge)
        {
            DecideHedged(context, state, hedge, reason, validationFailed);
            return;
        }

        if (reason is null)
        {
            state.Commit(Succeeded(state));
            return;
        }

        var (serverDelay, serverForbids) = ServerDirectedDelay(state, response, status);
        // A listed gRPC code is retried for any method: the policy author asserts it means "not processed" (gRFC A6's
        // retryableStatusCodes make the same assertion).
        if (_decider.TryScheduleRetry(state, reason, requiresIdempotency: !grpcCondition, serverDelay, serverForbids, out var outcome))
        {
            if (serverDelay is not null && (status is 429 or 503 || grpcCondition))
            {
                _metrics.RetryAfterHonored(state.Route.RouteName);
            }

            context.SuppressResponseBody = true;
            return;
        }

        if (validationFailed)
        {
            context.HttpContext.Response.Headers[SidecarHeaders.Validation] = "failed";
        }

        // Retries are over: the last upstream response goes to the caller unchanged.
        state.Commit(outcome);
    }

    /// <summary>
    /// A hedged attempt: a retryable response is dropped while another attempt may still answer (one in flight, or
    /// a slot for the next hedge); otherwise the first attempt to claim the win commits and every later one is dropped.
    /// </summary>
    private static void DecideHedged(ResponseTransformContext context, RetryState state, HedgeAttempt hedge, string? reason, bool validationFailed)
    {
        var group = hedge.Group;
        if (reason is not null && (group.InFlight > 1 || group.TryReserveNext()))
        {
            context.SuppressResponseBody = true;
            return;
        }

        if (!group.TryClaim(hedge))
        {
            context.SuppressResponseBody = true;
            return;
        }

        if (validationFailed)
        {
            context.HttpContext.Response.Headers[SidecarHeaders.Validation] = "failed";
        }

        state.Commit(reason is null ? Succeeded(state) : RequestOutcome.Exhausted);
    }

    /// <summary>
    /// The outcome of a response the policy does not retry: a success only below 500 and, for a gRPC call, without a
    /// non-OK status. A failure outside <c>retry_on</c> still reaches the caller as a failure, and the outcome must say so.
    /// </summary>
    private static RequestOutcome Succeeded(RetryState state) =>
        state.ResponseStatus >= StatusCodes.Status500InternalServerError || state.GrpcStatus > 0 ? RequestOutcome.NotRetryable
        : state.Attempt > 1 ? RequestOutcome.SuccessAfterRetry : RequestOutcome.Success;

    /// <summary>
    /// The status of a trailers-only gRPC response: <c>grpc-status</c> among the response headers (gRPC over HTTP/2).
    /// Once headers without it have arrived, the call is committed (gRFC A6): its status comes in the trailers, after
    /// messages that may already be with the caller.
    /// </summary>
    private static bool TryGetTrailersOnlyStatus(HttpResponseMessage response, out int status)
    {
        status = -1;
        return response.Headers.NonValidated.TryGetValues(GrpcProtocol.Status, out var values)
            && values.Count == 1
            && GrpcStatus.TryParseHeader(values.ToString(), out status);
    }

    /// <summary>
    /// The delay the upstream asked for, under the policy's <c>retry_after</c> (<c>honor</c>, capped by <c>max</c>):
    /// <c>x-sidecar-retry-pushback-ms</c> first (it is specific to us), then for a gRPC call <c>grpc-retry-pushback-ms</c>
    /// (gRFC A6: a malformed value means "do not retry", as for gRPC's own clients), then <c>Retry-After</c> on 429/503.
    /// A "do not retry" pushback is obeyed even when <c>honor</c> is false: it can only lower the load on the upstream.
    /// </summary>
    private (TimeSpan? Delay, bool Forbids) ServerDirectedDelay(RetryState state, HttpResponseMessage response, int status)
    {
        var retryAfter = state.Plan.Options.RetryAfter;
        if (response.Headers.NonValidated.TryGetValues(SidecarHeaders.RetryPushbackMs, out var pushback)
            && PushbackParser.TryParse(pushback.ToString(), out var pushbackDelay, out var stop))
        {
            if (stop)
            {
                return (null, true);
            }

            return (retryAfter.Honor ? Cap(pushbackDelay, retryAfter.Max) : null, false);
        }

        if (state.IsGrpc && response.Headers.NonValidated.TryGetValues(GrpcProtocol.RetryPushbackMs, out var grpcPushback))
        {
            if (!PushbackParser.TryParseGrpc(grpcPushback.Count == 1 ? grpcPushback.ToString() : null, out var grpcDelay))
            {
                return (null, true);
            }

            return (retryAfter.Honor ? Cap(grpcDelay, retryAfter.Max) : null, false);
        }

        if (retryAfter.Honor && status is 429 or 503
            && response.Headers.NonValidated.TryGetValues("Retry-After", out var values)
            && RetryAfterParser.TryParse(values.ToString(), _decider.TimeProvider.GetUtcNow(), out var delay))
        {
            return (Cap(delay, retryAfter.Max), false);
        }

        return (null, false);
    }

    private static TimeSpan Cap(TimeSpan delay, TimeSpan max) => delay > max ? max : delay;
}
