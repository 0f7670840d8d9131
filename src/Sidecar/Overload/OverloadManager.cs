using Sidecar.Configuration;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Overload;

/// <summary>
/// Sheds load before memory runs out, as Envoy's overload manager does. On a timer (never per request):
/// 1. sample memory pressure from <see cref="IMemoryPressureSource"/>;
/// 2. move to the state of the highest threshold of <c>limits.overload</c> that pressure reached, or, when it fell,
///    down to the highest threshold it is still within <c>recovery_margin</c> of (hysteresis: no flapping);
/// 3. on a change, publish the state (to <see cref="RequestAdmission"/>, whose volatile field the request path reads, the <c>sidecar_overload_state</c>
///    gauge, one log line), open or close the accept gate, and after an episode ends give the memory back.
/// </summary>
internal sealed partial class OverloadManager : IHostedService, IDisposable
{
    private static readonly Task Accepting = Task.CompletedTask;

    private readonly IMemoryPressureSource _source;
    private readonly HeapTrimmer _trimmer;
    private readonly RequestAdmission _admission;
    private readonly SidecarConfigStore _store;
    private readonly SidecarMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<OverloadManager> _logger;
    private readonly Lock _checkLock = new();
    private ITimer? _timer;
    private TimeSpan _interval;
    private TaskCompletionSource? _acceptGate;

    public OverloadManager(IMemoryPressureSource source, HeapTrimmer trimmer, RequestAdmission admission, SidecarConfigStore store, SidecarMetrics metrics, TimeProvider timeProvider, ILogger<OverloadManager> logger)
    {
        _source = source;
        _trimmer = trimmer;
        _admission = admission;
        _store = store;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _logger = logger;
        foreach (var label in OverloadActions.All)
        {
            metrics.OverloadActionKnown(label);
        }
    }

    /// <summary>The protections in force.</summary>
    public OverloadState State => _admission.State;

    /// <summary>Completes when new connections may be accepted: at once unless the state is <see cref="OverloadState.StopAccepting"/>.</summary>
    public Task WhenAccepting => Volatile.Read(ref _acceptGate)?.Task ?? Accepting;

    /// <summary>Raised after every state change, on the timer's thread (tests wait on it).</summary>
    public event Action<OverloadState>? StateChanged;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _interval = _store.Config.Limits.Overload.CheckInterval;
        _timer = _timeProvider.CreateTimer(static state => ((OverloadManager)state!).Check(), this, _interval, _interval);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        // Never leave the accept loop parked: a stopping server unbinds and must see its accept return.
        OpenAcceptGate();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        OpenAcceptGate();
    }

    /// <summary>One sample and, when warranted, one state change. The timer calls it; tests may too.</summary>
    public void Check()
    {
        // Timer callbacks may overlap on a busy thread pool; a skipped sample is harmless, two interleaved changes are not.
        if (!_checkLock.TryEnter())
        {
            return;
        }

        try
        {
            var options = _store.Config.Limits.Overload;
            if (options.CheckInterval != _interval)
            {
                _interval = options.CheckInterval;
                _timer?.Change(_interval, _interval);
            }

            _trimmer.Tick(elevated: State != OverloadState.Normal);
            var pressure = options.Enabled ? _source.Sample() : default;
            var previous = State;
            var next = options.Enabled ? Next(previous, pressure.Ratio, options) : OverloadState.Normal;
            if (next != previous)
            {
                Transition(previous, next, pressure);
            }
        }
        finally
        {
            _checkLock.Exit();
        }
    }

    /// <summary>The state after <paramref name="current"/> for a sample of <paramref name="pressure"/>.</summary>
    internal static OverloadState Next(OverloadState current, double pressure, OverloadOptions options)
    {
        var reached = Level(pressure, options, margin: 0);
        if (reached >= current)
        {
            return reached;
        }

        // Falling: a protection stays on until pressure is recovery_margin below its threshold.
        var within = Level(pressure, options, options.RecoveryMargin);
        return within < current ? within : current;
    }

    private static OverloadState Level(double pressure, OverloadOptions options, double margin) =>
        pressure >= options.StopAccepting - margin ? OverloadState.StopAccepting
        : pressure >= options.RejectRequests - margin ? OverloadState.RejectRequests
        : pressure >= options.StopBuffering - margin ? OverloadState.StopBuffering
        : OverloadState.Normal;

    private void Transition(OverloadState previous, OverloadState next, MemoryPressure pressure)
    {
        if (next == OverloadState.StopAccepting)
        {
            Volatile.Write(ref _acceptGate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        }

        _admission.SetState(next);
        if (previous == OverloadState.StopAccepting)
        {
            OpenAcceptGate();
        }

        _metrics.OverloadStateChanged((int)next);
        var used = MemoryBudget.FormatMebibytes(pressure.UsedBytes);
        var limit = MemoryBudget.FormatMebibytes(pressure.LimitBytes);
        if (next > previous)
        {
            LogRising(previous, next, pressure.Ratio, used, limit);
        }
        else
        {
            LogFalling(previous, next, pressure.Ratio, used, limit);
        }

        StateChanged?.Invoke(next);
    }

    private void OpenAcceptGate() => Interlocked.Exchange(ref _acceptGate, null)?.TrySetResult();

    [LoggerMessage(EventId = 400, Level = LogLevel.Warning, Message = "Overload: {Previous} -> {State} at memory pressure {Pressure:0.00} ({Used} of {Limit})")]
    private partial void LogRising(OverloadState previous, OverloadState state, double pressure, string used, string limit);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Overload: {Previous} -> {State} at memory pressure {Pressure:0.00} ({Used} of {Limit})")]
    private partial void LogFalling(OverloadState previous, OverloadState state, double pressure, string used, string limit);
}
