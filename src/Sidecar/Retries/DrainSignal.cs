namespace Sidecar.Retries;

/// <summary>Fires when the proxy stops accepting: pending backoffs are cut short and return their last response.</summary>
internal sealed class DrainSignal
{
    private readonly CancellationTokenSource _source = new();

    public CancellationToken Token => _source.Token;

    public bool IsDraining => _source.IsCancellationRequested;

    public void Trigger() => _source.Cancel();
}
