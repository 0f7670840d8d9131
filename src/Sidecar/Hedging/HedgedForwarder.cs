using System.Diagnostics;
using Sidecar.BodyReplay;
using Sidecar.Forwarding;
using Sidecar.Http;
using Sidecar.Policies;
using Sidecar.Retries;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Hedging;

/// <summary>
/// Hedging (<c>hedge: {delay, max_extra}</c>) for idempotent requests with a replayable body:
/// 1. Attempt 1 starts on one destination, on a shadow context (see <see cref="ShadowHttpContext"/>).
/// 2. When no attempt has won after <c>delay</c>, or an attempt fails, another starts on the next destination, as
///    long as attempts remain and it passes the retry decision (<see cref="RetryDecider.TryAdmitExtraAttempt"/>): the
///    budget, <c>max_concurrent_retries</c>, <c>max_waiting_retries</c>, the deadline and the upstream's pushback
///    bound hedges as they bound retries. The first refusal stops the race from asking again.
/// 3. The first attempt whose response is acceptable wins (the response transform claims it through the decider);
///    the others are cancelled, and the winner's status, headers and streamed body become the caller's response.
/// Hedged attempts choose their destination here rather than through YARP's load balancer, so they do not feed
/// passive health checks.
/// </summary>
internal sealed class HedgedForwarder
{
    private readonly IHttpForwarder _forwarder;
    private readonly RetryDecider _decider;
    private readonly TimeProvider _timeProvider;
    private readonly IRandomSource _random;
    private readonly SidecarMetrics _metrics;

    public HedgedForwarder(IHttpForwarder forwarder, RetryDecider decider, TimeProvider timeProvider, IRandomSource random, SidecarMetrics metrics)
    {
        _forwarder = forwarder;
        _decider = decider;
        _timeProvider = timeProvider;
        _random = random;
        _metrics = metrics;
    }

    /// <summary>Runs the race and writes the caller's response; returns the request's outcome and attempts made.</summary>
    public async Task<(RequestOutcome Outcome, int Attempts)> ForwardAsync(HttpContext context, IReverseProxyFeature proxyFeature, RetryState state, ReplayableRequestBody? body, CancellationToken requestAborted)
    {
        var plan = state.Plan;
        var hedge = plan.Options.Hedge!;
        var destinations = proxyFeature.AvailableDestinations;
        if (destinations.Count == 0)
        {
            await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "No healthy upstream destination", state.Route.RouteName, 0, RequestOutcome.NotRetryable.Label());
            return (RequestOutcome.NotRetryable, 0);
        }

        var group = new HedgeGroup(Math.Min(state.MaxAttempts, 1 + hedge.MaxExtra));
        var attempts = new List<HedgeAttempt>(group.MaxAttempts);
        var first = Math.Min((int)(_random.NextDouble() * destinations.Count), destinations.Count - 1);
        // Waits of the race loop hang off this token, cancelled when the loop ends, so none outlives the request.
        using var raceEnded = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        try
        {
            Start(context, proxyFeature, state, body, group, attempts, destinations[first], requestAborted);
            while (!group.HasWinner)
            {
                var delay = group.CanStartMore ? Task.Delay(hedge.Delay, _timeProvider, raceEnded.Token) : Task.Delay(Timeout.Infinite, raceEnded.Token);
                var failed = group.Failed.WaitToReadAsync(raceEnded.Token).AsTask();
                await Task.WhenAny(group.Winner, failed, delay);
                if (requestAborted.IsCancellationRequested)
                {
                    return (RequestOutcome.ClientCancelled, group.Started);
                }

                if (group.HasWinner)
                {
                    break;
                }

                var anyFailed = false;
                while (group.Failed.TryRead(out _))
                {
                    anyFailed = true;
                }

                if (group.TryTakeAdmitted(out var wait))
                {
                    // A retryable response made room for its replacement, which passed the decision then: only the
                    // upstream's Retry-After or pushback may still hold it back.
                    if (wait > TimeSpan.Zero && !await _decider.WaitAsync(state, wait, requestAborted))
                    {
                        return (RequestOutcome.ClientCancelled, group.Started);
                    }

                    if (group.Started >= group.MaxAttempts || group.HasWinner)
                    {
                        // An extra attempt started after the delay took the slot first (or another attempt won).
                        continue;
                    }

                    Start(context, proxyFeature, state, body, group, attempts, destinations[(first + group.Started) % destinations.Count], requestAborted);
                    continue;
                }

                if ((anyFailed || delay.IsCompleted) && group.CanStartMore)
                {
                    if (_decider.TryAdmitExtraAttempt(state, group.Started, RetryReason.Hedge, serverDelay: null, out _, out _))
                    {
                        Start(context, proxyFeature, state, body, group, attempts, destinations[(first + group.Started) % destinations.Count], requestAborted);
                        continue;
                    }

                    group.StopStarting();
                }

                if (group.InFlight == 0 && !group.HasWinner)
                {
                    if (AnyInvalid(attempts))
                    {
                        await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, InvalidUpstreamResponse.ProblemTitle, state.Route.RouteName, group.Started, InvalidUpstreamResponse.ProblemReason);
                        return (RequestOutcome.NotRetryable, group.Started);
                    }

                    await ProblemResponse.WriteAsync(context, StatusCodes.Status502BadGateway, "No usable response from any hedged attempt", state.Route.RouteName, group.Started, RequestOutcome.Exhausted.Label());
                    return (RequestOutcome.Exhausted, group.Started);
                }
            }

            var winner = await group.Winner;
            foreach (var attempt in attempts)
            {
                if (!ReferenceEquals(attempt, winner))
                {
                    attempt.Cancellation.Cancel();
                }
            }

            return (await RelayAsync(context, winner, group.Started, requestAborted), group.Started);
        }
        finally
        {
            raceEnded.Cancel();
            foreach (var attempt in attempts)
            {
                attempt.Cancellation.Cancel();
            }

            foreach (var attempt in attempts)
            {
                await attempt.Forwarding;
                attempt.Dispose();
            }

            // An admitted replacement the race never started gives back the wait slot its decision took.
            while (group.TryTakeAdmitted(out var unused))
            {
                if (unused > TimeSpan.Zero)
                {
                    _decider.EndWait(state);
                }
            }
        }
    }

    private void Start(HttpContext context, IReverseProxyFeature proxyFeature, RetryState parent, ReplayableRequestBody? body, HedgeGroup group, List<HedgeAttempt> attempts, DestinationState destination, CancellationToken requestAborted)
    {
        var number = group.Started + 1;
        var attempt = new HedgeAttempt(number, group, parent, destination);
        var state = parent.ForHedge(number, group.MaxAttempts, attempt);
        var cancellation = AttemptTiming.Arm(_timeProvider, state, _timeProvider.GetTimestamp(), requestAborted);
        attempt.Attach(ShadowHttpContext.Create(context, body, state, attempt.Body, cancellation.Token), cancellation);
        group.OnStarted();
        attempts.Add(attempt);
        attempt.Forwarding = RunAsync(attempt, proxyFeature, state, requestAborted);
    }

    private async Task<ForwarderError> RunAsync(HedgeAttempt attempt, IReverseProxyFeature proxyFeature, RetryState state, CancellationToken requestAborted)
    {
        var start = _timeProvider.GetTimestamp();
        var cluster = proxyFeature.Cluster;
        var error = ForwarderError.None;
        Activity? activity = null;
        try
        {
            // Yield first: the caller's loop must not run the forwarder's synchronous part inline.
            await Task.Yield();
            // A child of the request span (current in the caller's loop), and current while this attempt is forwarded,
            // so its context is what the upstream receives. Null unless a tracer listens.
            activity = SidecarActivitySource.StartAttempt(state.Route.RouteName, attempt.Number);
            error = await _forwarder.SendAsync(attempt.Context, attempt.Destination.Model.Config.Address, cluster.HttpClient, cluster.Config.HttpRequest ?? ForwarderRequestConfig.Empty, proxyFeature.Route.Transformer);
            return error;
        }
        finally
        {
            await attempt.Body.Writer.CompleteAsync();
            var responded = error == ForwarderError.None && state.ResponseStatus > 0;
            var result = attempt.Context.Features.Get<InvalidUpstreamResponse>() is not null ? AttemptResult.InvalidResponse
                : responded ? AttemptResults.OfStatus(state.ResponseStatus)
                : !attempt.Cancellation.IsCancellationRequested ? AttemptResult.Error
                // Cancelled with no winner and the caller still there: only its own per-try (or deadline) timer did it.
                : !requestAborted.IsCancellationRequested && !attempt.Group.HasWinner ? AttemptResult.PerTryTimeout
                : AttemptResult.Cancelled;
            SidecarActivitySource.SetAttemptResult(activity, result, responded ? state.ResponseStatus : 0);
            activity?.Dispose();
            _metrics.AttemptCompleted(state.Route.RouteName, state.Route.ClusterName, result, _timeProvider.GetElapsedTime(start));
            attempt.Group.OnFinished(attempt);
        }
    }

    private static bool AnyInvalid(List<HedgeAttempt> attempts)
    {
        foreach (var attempt in attempts)
        {
            if (attempt.Context.Features.Get<InvalidUpstreamResponse>() is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Copies the winner's status and headers to the caller and streams its body through.</summary>
    private static async Task<RequestOutcome> RelayAsync(HttpContext context, HedgeAttempt winner, int attempts, CancellationToken requestAborted)
    {
        var source = winner.Context.Response;
        var response = context.Response;
        response.StatusCode = source.StatusCode;
        foreach (var header in source.Headers)
        {
            response.Headers[header.Key] = header.Value;
        }

        response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(attempts);
        try
        {
            await winner.Body.Reader.CopyToAsync(response.Body, requestAborted);
        }
        catch (OperationCanceledException) when (requestAborted.IsCancellationRequested)
        {
            return RequestOutcome.ClientCancelled;
        }

        if (await winner.Forwarding != ForwarderError.None && !requestAborted.IsCancellationRequested)
        {
            // The winner's body broke off after its headers were sent: the caller must not take it as complete.
            context.Abort();
        }

        var state = winner.Context.Features.Get<RetryState>()!;
        return state.Outcome;
    }
}
