namespace Sidecar.Demo;

/// <summary>One caller request: the status it got (0 when no response came back), <c>x-sidecar-attempts</c>, and how long it took.</summary>
internal readonly record struct DemoSample(bool WithRetries, int Status, int Attempts, TimeSpan Latency)
{
    public bool Succeeded => Status is >= 200 and < 300;
}
