using Microsoft.AspNetCore.Connections;
using Sidecar.Hosting;

namespace Sidecar.Overload;

/// <summary>
/// Counts the proxy port's open connections against <c>limits.max_concurrent_connections</c>. At the cap the accept
/// loop waits for a connection to close, so the next one stays in the kernel's accept queue: connected, unread, not
/// reset. Every open connection may hold up to <see cref="Configuration.MemoryBudget.ConnectionBufferBytes"/> its
/// request has not read, so this cap, not the request cap, bounds what a burst of uploads buffers before admission.
/// </summary>
internal sealed class ConnectionSlots
{
    private static readonly Action<object?> Release = static state => ((ConnectionSlots)state!).Free();

    private readonly SidecarConfigStore _store;
    private readonly Lock _lock = new();
    private int _open;
    private TaskCompletionSource? _freed;

    public ConnectionSlots(SidecarConfigStore store)
    {
        _store = store;
    }

    /// <summary>Connections accepted and not yet closed, with any slot reserved for an accept under way.</summary>
    public int Open => Volatile.Read(ref _open);

    /// <summary>
    /// Reserves a slot if one is free. The caller must then either hand it to a connection (<see cref="Bind"/>) or
    /// give it back (<see cref="Return"/>).
    /// </summary>
    public bool TryReserve() => TryReserve(out _);

    /// <summary>Reserves a slot, waiting while the cap is reached; then as <see cref="TryReserve()"/>.</summary>
    public async Task ReserveAsync(CancellationToken cancellationToken)
    {
        while (!TryReserve(out var freed))
        {
            await freed.WaitAsync(cancellationToken);
        }
    }

    private bool TryReserve(out Task freed)
    {
        lock (_lock)
        {
            // Read per accept: a reload that raises or lowers the cap applies to the next connection.
            if (_open < _store.Config.Limits.MaxConcurrentConnections)
            {
                _open++;
                freed = Task.CompletedTask;
                return true;
            }

            freed = (_freed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            return false;
        }
    }

    /// <summary>The reserved slot is freed when <paramref name="connection"/> closes.</summary>
    public void Bind(ConnectionContext connection) => connection.ConnectionClosed.UnsafeRegister(Release, this);

    /// <summary>Gives back a reserved slot that no connection took (the listener was unbound).</summary>
    public void Return() => Free();

    private void Free()
    {
        TaskCompletionSource? freed;
        lock (_lock)
        {
            _open--;
            freed = _freed;
            _freed = null;
        }

        freed?.TrySetResult();
    }
}
