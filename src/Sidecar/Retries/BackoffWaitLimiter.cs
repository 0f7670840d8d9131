using Sidecar.Hosting;

namespace Sidecar.Retries;

/// <summary>
/// The process-wide cap on requests parked in backoff (<c>limits.max_waiting_retries</c>). Each holds a connection and
/// maybe a buffered body, so past the cap requests are still proxied but not retried. Read from the config at
/// startup; a reload does not change it.
/// </summary>
internal sealed class BackoffWaitLimiter
{
    private readonly ConcurrencyLimiter _limiter;

    public BackoffWaitLimiter(SidecarConfigStore store) => _limiter = new ConcurrencyLimiter(store.Config.Limits.MaxWaitingRetries);

    public bool TryEnter() => _limiter.TryEnter();

    public void Exit() => _limiter.Exit();
}
