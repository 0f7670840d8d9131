using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.BodyReplay;

/// <summary>
/// The process-wide cap on request bytes held for replay (<c>limits.max_buffered_bytes</c>), charged as the bytes
/// arrive (<see cref="ReplayableRequestBody"/>), so it and the <c>sidecar_buffered_bytes</c> gauge count bytes held,
/// not bytes promised. A body that does not fit is streamed once and not retried: bounded memory beats a retry.
/// </summary>
internal sealed class BufferedBytesAccount
{
    private readonly SidecarConfigStore _store;
    private readonly SidecarMetrics _metrics;
    private long _buffered;

    public BufferedBytesAccount(SidecarConfigStore store, SidecarMetrics metrics)
    {
        _store = store;
        _metrics = metrics;
    }

    /// <summary>Bytes held for replay now, by every request together.</summary>
    public long Held => Interlocked.Read(ref _buffered);

    public bool TryReserve(long bytes)
    {
        var limit = _store.Config.Limits.MaxBufferedBytes;
        if (Interlocked.Add(ref _buffered, bytes) > limit)
        {
            Interlocked.Add(ref _buffered, -bytes);
            return false;
        }

        _metrics.BufferedBytesChanged(bytes);
        return true;
    }

    public void Release(long bytes)
    {
        Interlocked.Add(ref _buffered, -bytes);
        _metrics.BufferedBytesChanged(-bytes);
    }
}
