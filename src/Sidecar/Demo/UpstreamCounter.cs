namespace Sidecar.Demo;

/// <summary>What the flaky upstream served on one route: every request that reached it, and the 2xx it completed.</summary>
internal sealed class UpstreamCounter
{
    private int _requests;
    private int _successes;

    public int Requests => Volatile.Read(ref _requests);

    public int Successes => Volatile.Read(ref _successes);

    public void RecordRequest() => Interlocked.Increment(ref _requests);

    public void RecordSuccess() => Interlocked.Increment(ref _successes);
}
