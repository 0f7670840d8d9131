namespace Sidecar.Logging;

/// <summary>
/// Calls every <see cref="ILogSummarySource"/> once per interval (default <see cref="LogConstants.SummaryInterval"/>) on
/// the injected <see cref="TimeProvider"/>, and once more after the proxy stopped, so the requests drained at shutdown
/// are summarized too.
/// </summary>
internal sealed class LogSummaryService : BackgroundService, IHostedLifecycleService
{
    private readonly ILogSummarySource[] _sources;
    private readonly TimeProvider _timeProvider;
    private readonly PeriodicTimer _timer;
    private readonly Lock _lock = new();
    private long _last;

    public LogSummaryService(IEnumerable<ILogSummarySource> sources, TimeProvider timeProvider, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _sources = [.. sources];
        _timeProvider = timeProvider;
        // Created here rather than in ExecuteAsync, which runs on the thread pool some time after the host started: the
        // first interval starts with the counts, when the host is built.
        _timer = new PeriodicTimer(interval, timeProvider);
        _last = timeProvider.GetTimestamp();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After every hosted service stopped, the server included: the last, shorter interval.</summary>
    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        Summarize();
        return Task.CompletedTask;
    }

    /// <summary>Summarizes every source over the time since the previous call.</summary>
    public void Summarize()
    {
        lock (_lock)
        {
            var now = _timeProvider.GetTimestamp();
            var interval = _timeProvider.GetElapsedTime(_last, now);
            _last = now;
            foreach (var source in _sources)
            {
                source.Summarize(interval);
            }
        }
    }

    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(stoppingToken))
            {
                Summarize();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
