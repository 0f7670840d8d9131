using System.Collections.Concurrent;
using System.Net;
using Sidecar.Hedging;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.TestSupport;

/// <summary>
/// A simulated upstream behind the hedging race's seam (<see cref="IHedgeSender"/>), without sockets or an
/// <see cref="HttpContext"/>: attempt n takes the n-th scripted step, which answers after its latency on the fake
/// clock (a response, decided by the real <see cref="RetryDecider"/> as the proxy's response transform would, a
/// transport error, or a response HTTP does not allow), or never, until the attempt's timer, losing the race or the
/// caller leaving ends it. It records what the race did: each attempt sent (when, to which destination), each one
/// cancelled, the winner relayed and the errors answered. It never leaves the caller's synchronization context, so a
/// single-threaded loop can drive it.
/// </summary>
internal sealed class ScriptedHedgeSender : IHedgeSender
{
    private readonly RetryDecider _decider;
    private readonly TimeProvider _time;
    private readonly Step[] _steps;
    private readonly DateTimeOffset _start;
    private readonly ConcurrentDictionary<int, TaskCompletionSource> _arrived = new();
    private readonly List<SentRecord> _sent = [];

    public ScriptedHedgeSender(RetryDecider decider, TimeProvider time, int destinations, params Step[] steps)
    {
        _decider = decider;
        _time = time;
        _steps = steps;
        _start = time.GetUtcNow();
        DestinationCount = destinations;
    }

    public int DestinationCount { get; }

    /// <summary>The attempts sent, in the order they reached the upstream.</summary>
    public SentRecord[] Sent
    {
        get
        {
            lock (_sent)
            {
                return [.. _sent];
            }
        }
    }

    /// <summary>The threads the attempts and the relay ran on (a single-threaded loop must keep them all).</summary>
    public ConcurrentBag<int> Threads { get; } = [];

    /// <summary>Attempts ended by their cancellation (lost the race, timed out, or the caller left).</summary>
    public ConcurrentBag<int> Cancelled { get; } = [];

    /// <summary>The relayed winner: its attempt number, status and the attempts the caller was told of; null for none.</summary>
    public (int Attempt, int Status, int Attempts)? Relayed { get; private set; }

    public List<(LoopAnswer Answer, int Attempts, RequestOutcome Outcome, bool TimedOut)> Answers { get; } = [];

    /// <summary>The address of destination <paramref name="index"/>.</summary>
    public static string Destination(int index) => $"http://10.0.0.{index + 1}:8080";

    /// <summary>Completes when attempt <paramref name="number"/> reaches the upstream.</summary>
    public Task ArrivedAsync(int number) => Arrival(number).Task.WaitAsync(TimeSpan.FromSeconds(30));

    public async ValueTask<SentAttempt> SendAsync(RetryState attempt, int destination, CancellationToken attemptAborted)
    {
        var number = attempt.Attempt;
        lock (_sent)
        {
            _sent.Add(new SentRecord(number, destination, _time.GetUtcNow() - _start));
        }

        Arrival(number).TrySetResult();
        Threads.Add(Environment.CurrentManagedThreadId);
        var step = _steps[number - 1];
        var address = Destination(destination);
        try
        {
            await Task.Delay(step.Latency, _time, attemptAborted);
            Threads.Add(Environment.CurrentManagedThreadId);
        }
        catch (OperationCanceledException)
        {
            Cancelled.Add(number);
            return new SentAttempt(StatusCodes.Status502BadGateway, new TransportFailure(TransportErrorKind.Other, "RequestCanceled", "cancelled"), InvalidResponse: false, address);
        }

        switch (step)
        {
            case Respond respond:
                using (var response = new HttpResponseMessage((HttpStatusCode)respond.Status) { Content = new ByteArrayContent([]) })
                {
                    foreach (var (name, value) in respond.Headers)
                    {
                        response.Headers.TryAddWithoutValidation(name, value);
                    }

                    await _decider.DecideResponseAsync(attempt, response, attemptAborted);
                    return new SentAttempt(respond.Status, null, InvalidResponse: false, address);
                }

            case Invalid:
                return new SentAttempt(StatusCodes.Status502BadGateway, null, InvalidResponse: true, address);

            case Fail fail:
                return new SentAttempt(StatusCodes.Status502BadGateway, new TransportFailure(fail.Kind, "Request", "scripted"), InvalidResponse: false, address);

            default:
                throw new InvalidOperationException($"Step {step} has no answer.");
        }
    }

    public async Task<bool> RelayAsync(RetryState winner, Task<SentAttempt> ended, int attempts, CancellationToken requestAborted)
    {
        Relayed = (winner.Attempt, winner.ResponseStatus, attempts);
        Threads.Add(Environment.CurrentManagedThreadId);
        await ended;
        return !requestAborted.IsCancellationRequested;
    }

    public Task AnswerAsync(LoopAnswer answer, int attempts, RequestOutcome outcome, bool timedOut)
    {
        Answers.Add((answer, attempts, outcome, timedOut));
        return Task.CompletedTask;
    }

    private TaskCompletionSource Arrival(int number) =>
        _arrived.GetOrAdd(number, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>An attempt as it reached the upstream: its number, destination index, and time since the test began.</summary>
    internal readonly record struct SentRecord(int Attempt, int Destination, TimeSpan At);

    /// <summary>One attempt's script: what the upstream does after <see cref="Latency"/>.</summary>
    internal abstract record Step(TimeSpan Latency);

    /// <summary>The upstream answers with this status and headers.</summary>
    internal sealed record Respond(int Status, TimeSpan Latency, params (string Name, string Value)[] Headers) : Step(Latency);

    /// <summary>The attempt ends with a transport error of this kind.</summary>
    internal sealed record Fail(TransportErrorKind Kind, TimeSpan Latency) : Step(Latency);

    /// <summary>The upstream answers with a response HTTP does not allow.</summary>
    internal sealed record Invalid(TimeSpan Latency) : Step(Latency);

    /// <summary>The upstream never answers: the attempt ends when its timer fires, it loses, or the caller leaves.</summary>
    internal sealed record Hang() : Step(Timeout.InfiniteTimeSpan);
}
