using Microsoft.AspNetCore.Connections;
using Sidecar.Routing;

namespace Sidecar.Overload;

/// <summary>
/// Counts the proxy port's pending connections (accepted, and their first request not yet read) against
/// <c>limits.max_pending_connections</c>. At the cap the accept loop waits for one to be read or to close, so the next
/// connection stays in the kernel's accept queue: connected, unread, not reset.
/// </summary>
/// <remarks>
/// A pending connection may already hold up to <see cref="Configuration.MemoryBudget.ConnectionBufferBytes"/> of its
/// request that Sidecar has not looked at, and nothing else bounds how many there are: a burst of 2,000 uploads filled
/// a 64 MiB pod's heap before admission saw their requests. Once a connection's first request is read it is the
/// request caps' business (<c>max_concurrent_requests</c>), and an idle keep-alive connection holds no buffer, so
/// neither holds a slot: a client's connection pool never blocks its own next connection.
/// </remarks>
internal sealed class ConnectionSlots
{
    private readonly SidecarConfigStore _store;
    private readonly Lock _lock = new();
    private int _pending;
    private TaskCompletionSource? _freed;

    public ConnectionSlots(SidecarConfigStore store)
    {
        _store = store;
    }

    /// <summary>Connections accepted whose first request has not been read yet, with any slot reserved for an accept under way.</summary>
    public int Pending => Volatile.Read(ref _pending);

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

    /// <summary>
    /// The reserved slot is freed when <paramref name="connection"/>'s first request is read (<see cref="PendingConnection.Read"/>,
    /// found on the request's features) or when it closes, whichever comes first.
    /// </summary>
    public void Bind(ConnectionContext connection)
    {
        var pending = new PendingConnection(this);
        connection.Features.Set(pending);
        connection.ConnectionClosed.UnsafeRegister(static state => ((PendingConnection)state!).Read(), pending);
    }

    /// <summary>Gives back a reserved slot that no connection took (the listener was unbound).</summary>
    public void Return() => Free();

    private bool TryReserve(out Task freed)
    {
        lock (_lock)
        {
            // Read per accept: a reload that raises or lowers the cap applies to the next connection.
            if (_pending < _store.Config.Limits.MaxPendingConnections)
            {
                _pending++;
                freed = Task.CompletedTask;
                return true;
            }

            freed = (_freed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            return false;
        }
    }

    private void Free()
    {
        TaskCompletionSource? freed;
        lock (_lock)
        {
            _pending--;
            freed = _freed;
            _freed = null;
        }

        freed?.TrySetResult();
    }

    /// <summary>A connection's claim on a slot, on its connection features so that its requests can end the claim.</summary>
    internal sealed class PendingConnection
    {
        private readonly ConnectionSlots _slots;
        private int _read;

        public PendingConnection(ConnectionSlots slots)
        {
            _slots = slots;
        }

        /// <summary>Frees the slot the first time; later calls (every further request, the close) do nothing.</summary>
        public void Read()
        {
            if (Volatile.Read(ref _read) == 0 && Interlocked.Exchange(ref _read, 1) == 0)
            {
                _slots.Free();
            }
        }
    }
}
