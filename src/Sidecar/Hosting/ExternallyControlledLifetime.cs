namespace Sidecar.Hosting;

/// <summary>
/// Replaces the console lifetime: signals are handled once for both servers by the <c>run</c> command, which drains
/// the proxy before stopping (the default lifetime would stop each host on its own at SIGTERM).
/// </summary>
internal sealed class ExternallyControlledLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
