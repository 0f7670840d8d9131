using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Sidecar.Overload;

/// <summary>
/// One listening socket whose accept loop waits while the overload manager stops accepting, and while
/// <c>limits.max_pending_connections</c> accepted connections have not had their first request read.
/// </summary>
internal sealed class PausingConnectionListener : IConnectionListener
{
    private readonly IConnectionListener _inner;
    private readonly OverloadManager _overload;
    private readonly ConnectionSlots _slots;
    private readonly Action _connectionHeld;
    private readonly Action _connectionLimited;
    private readonly Action _idleConnectionClosed;
    private readonly CancellationTokenSource _unbound = new();
    // After a pause, accepts that complete at once drain the connections the backlog held.
    private bool _draining;

    public PausingConnectionListener(IConnectionListener inner, OverloadManager overload, ConnectionSlots slots, Action connectionHeld, Action connectionLimited, Action idleConnectionClosed)
    {
        _idleConnectionClosed = idleConnectionClosed;
        _inner = inner;
        _overload = overload;
        _slots = slots;
        _connectionHeld = connectionHeld;
        _connectionLimited = connectionLimited;
    }

    public EndPoint EndPoint => _inner.EndPoint;

    /// <remarks>
    /// 1. While paused, wait before asking for a connection: new ones stay in the kernel's backlog.
    /// 2. Accept. Accepts that complete at once right after a pause found a connection waiting in the backlog: held.
    /// 3. The accept loop is usually parked in step 2 when a pause begins; the connection that wakes it is held here
    ///    (unread by Kestrel) until the pause ends, so no new connection is served while paused.
    /// 4. Reserve a slot for it, waiting while <c>max_pending_connections</c> connections are pending; a pending one
    ///    that has sent nothing is closed to make room. The connection is accepted first so that only a caller really
    ///    waiting makes an idle one close; until Kestrel has it, its bytes stay in the kernel's receive buffer.
    /// </remarks>
    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var connection = await AcceptWhenNotPausedAsync(cancellationToken);
        if (connection is null)
        {
            return null;
        }

        if (!await ReserveSlotAsync(cancellationToken))
        {
            // Unbound while waiting for a slot: the server is stopping; the inner listener answers as a stopped one does.
            connection.Abort();
            await connection.DisposeAsync();
            return await _inner.AcceptAsync(cancellationToken);
        }

        _slots.Bind(connection);
        return connection;
    }

    /// <summary>False when the listener was unbound (or the accept cancelled) while it waited.</summary>
    private async ValueTask<bool> ReserveSlotAsync(CancellationToken cancellationToken)
    {
        if (_slots.TryReserve())
        {
            return true;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
        try
        {
            _connectionLimited();
            await _slots.ReserveAsync(stop.Token, _idleConnectionClosed);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async ValueTask<ConnectionContext?> AcceptWhenNotPausedAsync(CancellationToken cancellationToken)
    {
        var resumed = await WaitWhilePausedAsync(cancellationToken);
        var accept = _inner.AcceptAsync(cancellationToken);
        var held = (resumed || _draining) && accept.IsCompleted;
        _draining = held;
        var connection = await accept;
        if (connection is null)
        {
            return null;
        }

        if (await WaitWhilePausedAsync(cancellationToken))
        {
            held = true;
        }

        if (held)
        {
            _connectionHeld();
        }

        return connection;
    }

    private async ValueTask<bool> WaitWhilePausedAsync(CancellationToken cancellationToken)
    {
        var gate = _overload.WhenAccepting;
        if (gate.IsCompleted)
        {
            return false;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
        try
        {
            await gate.WaitAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Unbinding (the server stops): the inner listener now returns null, or throws as it would have.
        }

        return true;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.Cancel();
        return _inner.UnbindAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _unbound.Dispose();
        return _inner.DisposeAsync();
    }
}
