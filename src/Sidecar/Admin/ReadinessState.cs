namespace Sidecar.Admin;

/// <summary>
/// What <c>/readyz</c> reports: ready once the config is loaded and the proxy listens, until draining starts; unready
/// meanwhile while memory pressure makes Sidecar reject new requests, since it then takes no new work.
/// </summary>
internal sealed class ReadinessState
{
    private volatile bool _listening;
    private volatile bool _draining;
    private volatile bool _overloaded;

    public bool IsReady => _listening && !_draining && !_overloaded;

    public bool IsDraining => _draining;

    public bool IsOverloaded => _overloaded;

    public void SetOverloaded(bool overloaded) => _overloaded = overloaded;

    public void MarkListening() => _listening = true;

    public void MarkDraining() => _draining = true;
}
