namespace Sidecar.Overload;

/// <summary>Where the overload manager reads memory pressure from: the GC in production, a test's own value in tests.</summary>
internal interface IMemoryPressureSource
{
    /// <summary>Measures the pressure now. Called from the overload manager's timer, never from the request path.</summary>
    MemoryPressure Sample();
}
