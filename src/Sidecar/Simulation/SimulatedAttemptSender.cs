using System.Net;
using Sidecar.Hedging;
using Sidecar.Circuits;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.Simulation;

/// <summary>
/// The sender of a simulated request, in place of the proxy's YARP senders: for the attempt loop
/// (<see cref="IAttemptSender"/>) and for the hedging race (<see cref="IHedgeSender"/>). Each attempt goes to the
/// <see cref="SimulatedUpstream"/>, and a response is decided by the real <see cref="RetryDecider"/>, as the proxy's
/// response transform does, before anything would reach the caller. A per-try timeout or the deadline ends a pending
/// attempt as YARP reports a cancelled one. One per request; its attempts are independent of each other, so hedged
/// attempts run side by side through it.
/// </summary>
internal sealed class SimulatedAttemptSender : IAttemptSender, IHedgeSender
{
    /// <summary>The destination attempts are reported to have gone to.</summary>
    public const string Destination = "http://simulated-upstream";

    private static readonly TransportFailure Refused = new(TransportErrorKind.ConnectFailure, "Request", "connection refused (simulated outage)");
    private static readonly TransportFailure Reset = new(TransportErrorKind.Reset, "Request", "connection reset (simulated)");
    private static readonly TransportFailure Cancelled = new(TransportErrorKind.Other, "RequestCanceled", "the attempt was cancelled");

    private readonly SimulatedUpstream _upstream;
    private readonly RetryDecider _decider;
    private readonly DestinationCircuit? _circuit;
    private readonly SimulationLoop _loop;
    private bool _probe;

    public SimulatedAttemptSender(SimulatedUpstream upstream, RetryDecider decider, DestinationCircuit? circuit, SimulationLoop loop)
    {
        _upstream = upstream;
        _decider = decider;
        _circuit = circuit;
        _loop = loop;
    }

    public bool ResponseStarted { get; private set; }

    /// <summary>Attempts sent to the upstream.</summary>
    public int Sent { get; private set; }

    /// <summary>The status the caller got: the committed response's, or Sidecar's own answer's; 0 for none yet.</summary>
    public int CallerStatus { get; private set; }

    public bool TryPrepareRetry(RetryState state) => true;

    public bool TryPassCircuit()
    {
        _probe = false;
        return _circuit is null || _circuit.TryAllow(out _probe);
    }

    public async ValueTask<SentAttempt> SendAsync(RetryState state, CancellationToken attemptAborted)
    {
        var answer = await CallAsync(attemptAborted);
        SentAttempt sent;
        if (answer.Kind == UpstreamAnswerKind.Response)
        {
            using var response = Response(answer);
            var decision = await _decider.DecideResponseAsync(state, response, attemptAborted);
            ResponseStarted = !decision.Suppress;
            if (ResponseStarted)
            {
                CallerStatus = answer.Status;
            }

            sent = new SentAttempt(answer.Status, null, InvalidResponse: false, Destination);
        }
        else
        {
            sent = new SentAttempt(StatusCodes.Status502BadGateway, Failure(answer.Kind), InvalidResponse: false, Destination);
        }

        // As the proxy's CircuitRecorder: a transport error or a 5xx counts against the destination.
        _circuit?.Record(failure: sent.Failure is not null || state.ResponseStatus >= 500, _probe);
        return sent;
    }

    /// <summary>The simulated upstream is one destination.</summary>
    public int DestinationCount => 1;

    /// <summary>A hedged attempt: decided on its own state, which claims the win or drops its response; only the
    /// race's relay makes a response the caller's.</summary>
    public async ValueTask<SentAttempt> SendAsync(RetryState attempt, int destination, CancellationToken attemptAborted)
    {
        var answer = await CallAsync(attemptAborted);
        if (answer.Kind != UpstreamAnswerKind.Response)
        {
            return new SentAttempt(StatusCodes.Status502BadGateway, Failure(answer.Kind), InvalidResponse: false, Destination);
        }

        using var response = Response(answer);
        await _decider.DecideResponseAsync(attempt, response, attemptAborted);
        return new SentAttempt(answer.Status, null, InvalidResponse: false, Destination);
    }

    public Task<bool> RelayAsync(RetryState winner, Task<SentAttempt> ended, int attempts, CancellationToken requestAborted)
    {
        // The simulated body has no bytes to stream: the winner's status is what the caller got.
        CallerStatus = winner.ResponseStatus;
        return Task.FromResult(true);
    }

    /// <summary>A request on a route without a policy: forwarded once, its answer passed to the caller as it is.</summary>
    public async Task SendOnceAsync()
    {
        var answer = await CallAsync(CancellationToken.None);
        CallerStatus = answer.Kind == UpstreamAnswerKind.Response ? answer.Status : StatusCodes.Status502BadGateway;
    }

    public Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        // The statuses ErrorAnswers writes for each answer (a race with no destination: 503).
        CallerStatus = answer switch
        {
            LoopAnswer.NoResponse when attempts == 0 && !timedOut => StatusCodes.Status503ServiceUnavailable,
            LoopAnswer.CircuitOpen => StatusCodes.Status503ServiceUnavailable,
            LoopAnswer.DeadlineBeforeAttempt or LoopAnswer.TimedOutAfterCommit => StatusCodes.Status504GatewayTimeout,
            LoopAnswer.NoResponse when timedOut => StatusCodes.Status504GatewayTimeout,
            _ => StatusCodes.Status502BadGateway,
        };
        return Task.CompletedTask;
    }

    private async Task<UpstreamAnswer> CallAsync(CancellationToken attemptAborted)
    {
        _loop.AssertOnLoop();
        Sent++;
        var call = new UpstreamCall();
        call.AbandonOn(attemptAborted);
        _upstream.Arrive(call);
        return await call.Task;
    }

    private static HttpResponseMessage Response(UpstreamAnswer answer)
    {
        var response = new HttpResponseMessage((HttpStatusCode)answer.Status) { Content = new ByteArrayContent([]) };
        if (answer.RetryAfter is { } retryAfter)
        {
            response.Headers.TryAddWithoutValidation("Retry-After", retryAfter);
        }

        return response;
    }

    private static TransportFailure Failure(UpstreamAnswerKind kind) => kind switch
    {
        UpstreamAnswerKind.Refused => Refused,
        UpstreamAnswerKind.Reset => Reset,
        _ => Cancelled,
    };
}
