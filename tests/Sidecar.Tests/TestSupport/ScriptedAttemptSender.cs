using System.Net;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.TestSupport;

/// <summary>
/// A simulated upstream behind the attempt loop's seam, without sockets: each attempt takes the next scripted step
/// (a response, which the real <see cref="RetryDecider"/> decides as the proxy's response transform would, a
/// transport error, or no answer until the attempt's timer or the caller ends it), and the sender records what the
/// loop did: when each attempt was sent and what the caller was answered.
/// </summary>
internal sealed class ScriptedAttemptSender : IAttemptSender
{
    private readonly RetryDecider _decider;
    private readonly TimeProvider _time;
    private readonly Queue<Step> _steps;

    public ScriptedAttemptSender(RetryDecider decider, TimeProvider time, params Step[] steps)
    {
        _decider = decider;
        _time = time;
        _steps = new Queue<Step>(steps);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, TaskCompletionSource> _arrived = new();

    /// <summary>When each attempt was sent, relative to the clock's start, in order.</summary>
    public List<TimeSpan> SentAt { get; } = [];

    public List<(LoopAnswer Answer, int Attempts, RequestOutcome Outcome, bool TimedOut)> Answers { get; } = [];

    /// <summary>The attempt number from which the circuit refuses attempts; 0 for never.</summary>
    public int CircuitOpensAt { get; set; }

    /// <summary>The body can no longer be sent again when a retry is prepared.</summary>
    public bool BodyBroken { get; set; }

    public bool ResponseStarted { get; private set; }

    public int Sent => SentAt.Count;

    /// <summary>Completes when attempt <paramref name="number"/> reaches the upstream.</summary>
    public Task ArrivedAsync(int number) => Arrival(number).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public bool TryPrepareRetry(RetryState state) => !BodyBroken;

    public bool TryPassCircuit() => CircuitOpensAt == 0 || Sent + 1 < CircuitOpensAt;

    public async ValueTask<SentAttempt> SendAsync(RetryState state, CancellationToken attemptAborted)
    {
        SentAt.Add(_time.GetUtcNow() - Start);
        Arrival(SentAt.Count).TrySetResult();
        var step = _steps.Dequeue();
        switch (step)
        {
            case Respond respond:
                using (var response = new HttpResponseMessage((HttpStatusCode)respond.Status) { Content = new ByteArrayContent([]) })
                {
                    foreach (var (name, value) in respond.Headers)
                    {
                        response.Headers.TryAddWithoutValidation(name, value);
                    }

                    var decision = await _decider.DecideResponseAsync(state, response, attemptAborted).ConfigureAwait(false);
                    ResponseStarted = !decision.Suppress;
                    return new SentAttempt(respond.Status, null, InvalidResponse: false);
                }

            case Fail fail:
                return new SentAttempt(StatusCodes.Status502BadGateway, new TransportFailure(fail.Kind, "Request", "scripted"), InvalidResponse: false);

            default:
                try
                {
                    await Task.Delay(Timeout.Infinite, attemptAborted).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }

                return new SentAttempt(StatusCodes.Status502BadGateway, new TransportFailure(TransportErrorKind.Other, "RequestCanceled", "cancelled"), InvalidResponse: false);
        }
    }

    public Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        Answers.Add((answer, attempts, outcome, timedOut));
        return Task.CompletedTask;
    }

    /// <summary>The clock's time when the test began (the harness clock starts there).</summary>
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private TaskCompletionSource Arrival(int number) =>
        _arrived.GetOrAdd(number, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>One attempt's script.</summary>
    internal abstract record Step;

    /// <summary>The upstream answers with this status and headers.</summary>
    internal sealed record Respond(int Status, params (string Name, string Value)[] Headers) : Step;

    /// <summary>The attempt ends with a transport error of this kind.</summary>
    internal sealed record Fail(TransportErrorKind Kind) : Step;

    /// <summary>The upstream never answers: the attempt ends when its timer fires or the caller leaves.</summary>
    internal sealed record Hang : Step;
}
