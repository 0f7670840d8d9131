using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Sidecar.Overload;

/// <summary>
/// Wraps Kestrel's transport so that the overload manager can stop accepting connections: while its state is
/// <see cref="OverloadState.StopAccepting"/>, the accept loop waits before calling <c>accept</c>, and new connections
/// queue in the kernel's listen backlog. A client there is connected but unread: it is neither reset nor costs Sidecar
/// a receive buffer, and it is served once pressure falls. (Kestrel's own <c>MaxPendingConnections</c> would accept
/// and close them instead: a reset, not an answer.)
/// </summary>
internal sealed class PausingConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly IConnectionListenerFactory _inner;
    private readonly OverloadManager _overload;
    private readonly ConnectionSlots _slots;
    private readonly Action _connectionHeld;
    private readonly Action _connectionLimited;
    private readonly Action _idleConnectionClosed;

    public PausingConnectionListenerFactory(IConnectionListenerFactory inner, OverloadManager overload, ConnectionSlots slots, Action connectionHeld, Action connectionLimited, Action idleConnectionClosed)
    {
        _idleConnectionClosed = idleConnectionClosed;
        _inner = inner;
        _overload = overload;
        _slots = slots;
        _connectionHeld = connectionHeld;
        _connectionLimited = connectionLimited;
    }

    public async ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        new PausingConnectionListener(await _inner.BindAsync(endpoint, cancellationToken), _overload, _slots, _connectionHeld, _connectionLimited, _idleConnectionClosed);

    public bool CanBind(EndPoint endpoint) => _inner is not IConnectionListenerFactorySelector selector || selector.CanBind(endpoint);
}
