using System.Threading.Channels;

namespace Sidecar.Hedging;

/// <summary>
/// The attempts of one hedged request racing each other. The first attempt whose response is acceptable claims the
/// win (compare-and-swap), and only the winner's response reaches the caller; an attempt that fails (transport error,
/// or a retryable response while others may still answer) reports itself so the next hedge can start at once. A slot
/// kept for a replacement (<see cref="TryReserveNext"/>) is either given back or admitted, already past the retry
/// decision, for the race to start; once a limit refuses an extra attempt the race starts no more.
/// The race waits for its next event in one place (<see cref="NextEventAsync"/>), awaited directly rather than through
/// <c>Task.WhenAny</c> or a channel's waiter, whose completions hop through the thread pool: on a single-threaded
/// simulation loop every continuation of the race then goes back to the loop, in order.
/// </summary>
internal sealed class HedgeGroup : IDisposable
{
    private readonly TaskCompletionSource<HedgeAttempt> _winner = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<HedgeAttempt> _failed = Channel.CreateUnbounded<HedgeAttempt>();
    private readonly Queue<TimeSpan> _admitted = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource? _waiter;
    private bool _signalled;
    private ITimer? _delayTimer;
    private int _delayGeneration;
    private bool _delayElapsed;
    private int _claimed;
    private int _inFlight;
    private int _reserved;
    private int _started;
    private volatile bool _stopped;
    private volatile bool _winnerCommitted;

    public HedgeGroup(int maxAttempts) => MaxAttempts = maxAttempts;

    /// <summary>1 + <c>hedge.max_extra</c>, bounded by the policy's attempt limit.</summary>
    public int MaxAttempts { get; }

    public int Started => Volatile.Read(ref _started);

    public Task<HedgeAttempt> Winner => _winner.Task;

    public ChannelReader<HedgeAttempt> Failed => _failed.Reader;

    public int InFlight => Volatile.Read(ref _inFlight);

    public bool HasWinner => Volatile.Read(ref _claimed) != 0;

    /// <summary>The winner's response is committed (<see cref="OnWinnerCommitted"/>).</summary>
    public bool WinnerCommitted => _winnerCommitted;

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

    /// <summary>The winner's response is committed, its outcome set (the decider commits right after the claim): the race may relay it.</summary>
    public void OnWinnerCommitted()
    {
        _winnerCommitted = true;
        Signal();
    }

    public void OnFinished(HedgeAttempt attempt)
    {
        Interlocked.Decrement(ref _inFlight);
        if (!ReferenceEquals(_winner.Task.IsCompleted ? _winner.Task.Result : null, attempt))
        {
            _failed.Writer.TryWrite(attempt);
        }

        Signal();
    }

    /// <summary>
    /// Completes at the race's next event: an attempt finished or won, the hedge delay elapsed, or <see cref="Signal"/>
    /// (the caller leaving); at once when one came since the last call.
    /// </summary>
    public Task NextEventAsync()
    {
        lock (_gate)
        {
            if (_signalled)
            {
                _signalled = false;
                return Task.CompletedTask;
            }

            _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _waiter.Task;
        }
    }

    /// <summary>Wakes the race (<see cref="NextEventAsync"/>).</summary>
    public void Signal()
    {
        TaskCompletionSource? waiter;
        lock (_gate)
        {
            waiter = _waiter;
            _waiter = null;
            _signalled = waiter is null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>
    /// Arms the hedge delay from now, replacing the previous one (an attempt just started), when another attempt may
    /// still start; a replaced timer that fires anyway is ignored.
    /// </summary>
    public void ArmDelay(TimeProvider time, TimeSpan delay)
    {
        lock (_gate)
        {
            _delayTimer?.Dispose();
            _delayTimer = null;
            _delayElapsed = false;
            var generation = ++_delayGeneration;
            if (CanStartMore)
            {
                _delayTimer = time.CreateTimer(_ => OnDelayElapsed(generation), null, delay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Whether the hedge delay elapsed since the last call (or since it was armed).</summary>
    public bool TakeDelayElapsed()
    {
        lock (_gate)
        {
            var elapsed = _delayElapsed;
            _delayElapsed = false;
            return elapsed;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _delayTimer?.Dispose();
            _delayTimer = null;
            ++_delayGeneration;
        }
    }

    private void OnDelayElapsed(int generation)
    {
        lock (_gate)
        {
            if (generation != _delayGeneration)
            {
                return;
            }

            _delayElapsed = true;
        }

        Signal();
    }
}
