namespace Sidecar.Simulation;

/// <summary>
/// Runs a simulation on the calling thread alone: every continuation the proxy's code and the model post (each
/// <c>await</c> captures this context) goes into one queue, which is drained before the <see cref="VirtualClock"/>
/// moves to its next timer. Nothing runs in parallel and nothing waits for real time, so a run is the same for a seed
/// and as fast as the code it runs.
/// </summary>
internal sealed class SimulationLoop : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _ready = new();
    private readonly VirtualClock _clock;
    private int _thread;

    public SimulationLoop(VirtualClock clock) => _clock = clock;

    /// <summary>Continuations run so far (a measure of the work done).</summary>
    public long Steps { get; private set; }

    public override void Post(SendOrPostCallback d, object? state) => _ready.Enqueue((d, state));

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;

    /// <summary>
    /// Calls <paramref name="start"/> on this context, then runs continuations and fires timers in time order until
    /// nothing is left to do or the next timer is past <paramref name="until"/> (ticks of virtual time).
    /// </summary>
    public void Run(Action start, long until)
    {
        var previous = Current;
        SetSynchronizationContext(this);
        _thread = Environment.CurrentManagedThreadId;
        try
        {
            start();
            while (true)
            {
                Drain();
                if (!_clock.TryPeekNext(out var due) || due > until)
                {
                    return;
                }

                _clock.AdvanceToNext();
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>Throws when code of the run continues on another thread: a run must stay on one to be deterministic.</summary>
    public void AssertOnLoop()
    {
        if (Environment.CurrentManagedThreadId != _thread || Current != this)
        {
            throw new InvalidOperationException("The simulation continued off its thread; a continuation escaped the simulation's context.");
        }
    }

    private void Drain()
    {
        while (_ready.TryDequeue(out var item))
        {
            Steps++;
            item.Callback(item.State);
        }
    }
}
