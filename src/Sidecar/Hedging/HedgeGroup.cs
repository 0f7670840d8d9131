using System.Threading.Channels;

namespace Sidecar.Hedging;

/// <summary>
/// The attempts of one hedged request racing each other. The first attempt whose response is acceptable claims the
/// win (compare-and-swap), and only the winner's response reaches the caller; an attempt that fails (transport error,
/// or a retryable response while others may still answer) reports itself so the next hedge can start at once. A slot
/// kept for a replacement (<see cref="TryReserveNext"/>) is either given back or admitted, already past the retry
/// decision, for the race to start; once a limit refuses an extra attempt the race starts no more.
/// </summary>
internal sealed class HedgeGroup
{
    private readonly TaskCompletionSource<HedgeAttempt> _winner = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<HedgeAttempt> _failed = Channel.CreateUnbounded<HedgeAttempt>();
    private readonly Queue<TimeSpan> _admitted = new();
    private int _claimed;
    private int _inFlight;
    private int _reserved;
    private int _started;
    private volatile bool _stopped;

    public HedgeGroup(int maxAttempts) => MaxAttempts = maxAttempts;

    /// <summary>1 + <c>hedge.max_extra</c>, bounded by the policy's attempt limit.</summary>
    public int MaxAttempts { get; }

    public int Started => Volatile.Read(ref _started);

    public Task<HedgeAttempt> Winner => _winner.Task;

    public ChannelReader<HedgeAttempt> Failed => _failed.Reader;

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool HasWinner => Volatile.Read(ref _claimed) != 0;

    /// <summary>Whether the race may still ask to start another attempt: it was not stopped, and slots remain.</summary>
    public bool CanStartMore => !_stopped && Started < MaxAttempts;

    public void OnStarted()
    {
        Interlocked.Increment(ref _started);
        Interlocked.Increment(ref _inFlight);
        if (Volatile.Read(ref _reserved) > 0)
        {
            Interlocked.Decrement(ref _reserved);
        }
    }

    /// <summary>A failing attempt keeps a slot for the hedge that replaces it, so it may drop its own response.</summary>
    public bool TryReserveNext()
    {
        // Counting reservations keeps two attempts failing at once from both counting on the same last slot.
        if (_stopped)
        {
            return false;
        }

        if (Interlocked.Increment(ref _reserved) + Started > MaxAttempts)
        {
            Interlocked.Decrement(ref _reserved);
            return false;
        }

        return true;
    }

    public void CancelReservation() => Interlocked.Decrement(ref _reserved);

    /// <summary>The reserved replacement passed the retry decision: start it after <paramref name="delay"/>.</summary>
    public void AdmitReserved(TimeSpan delay)
    {
        lock (_admitted)
        {
            _admitted.Enqueue(delay);
        }
    }

    /// <summary>Takes an admitted replacement to start (starting it uses the slot it reserved).</summary>
    public bool TryTakeAdmitted(out TimeSpan delay)
    {
        lock (_admitted)
        {
            return _admitted.TryDequeue(out delay);
        }
    }

    /// <summary>No further attempt is asked for: a limit or the upstream refused one (asking again each delay would only count refusals).</summary>
    public void StopStarting() => _stopped = true;

    public bool TryClaim(HedgeAttempt attempt)
    {
        if (Interlocked.CompareExchange(ref _claimed, attempt.Number, 0) != 0)
        {
            return false;
        }

        _winner.TrySetResult(attempt);
        return true;
    }

    public void OnFinished(HedgeAttempt attempt)
    {
        Interlocked.Decrement(ref _inFlight);
        if (!ReferenceEquals(_winner.Task.IsCompleted ? _winner.Task.Result : null, attempt))
        {
            _failed.Writer.TryWrite(attempt);
        }
    }
}
