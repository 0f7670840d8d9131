namespace Sidecar.Admin;

/// <summary>What <c>/readyz</c> reports: ready once the config is loaded and the proxy listens, until draining starts.</summary>
internal sealed class ReadinessState
{
    private volatile bool _listening;
    private volatile bool _draining;

    public bool IsReady => _listening && !_draining;

    public bool IsDraining => _draining;

    public void MarkListening() => _listening = true;

    public void MarkDraining() => _draining = true;
}
