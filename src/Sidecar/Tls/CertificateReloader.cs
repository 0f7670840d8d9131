namespace Sidecar.Tls;

/// <summary>
/// Polls the certificate files of every cluster and of the listener every <see cref="Interval"/> on the host's
/// <see cref="TimeProvider"/> (as <c>Hosting/ConfigFileWatcher</c> polls the config): polling sees a Secret
/// volume's symlink swap that a file watch on the old target would miss.
/// </summary>
internal sealed class CertificateReloader : BackgroundService
{
    private readonly TlsRegistry _registry;
    private readonly TimeProvider _timeProvider;

    public CertificateReloader(TlsRegistry registry, TimeProvider timeProvider, TimeSpan interval)
    {
        _registry = registry;
        _timeProvider = timeProvider;
        Interval = interval;
    }

    public TimeSpan Interval { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _registry.ReloadAll();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
