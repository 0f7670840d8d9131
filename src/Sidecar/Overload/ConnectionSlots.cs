using System.Buffers.Binary;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
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
/// a 64 MiB pod's heap before admission saw their requests. A first request waiting for admission still holds its
/// body's bytes unread, so its connection keeps the slot until the request is let in or answered; then it is the
/// request caps' business (<c>max_concurrent_requests</c>), and an idle keep-alive connection holds no buffer, so
/// neither holds a slot: a client's connection pool never blocks its own next connection.
/// A connection that has sent nothing yet holds no buffer either, so it must not block anyone: at the cap, the accept
/// loop closes the one idle the longest rather than wait; a neighbour that opens
/// connections and sends nothing can no longer stop every other caller for longer than <c>limits.idle_connection_timeout</c>.
/// </remarks>
internal sealed class ConnectionSlots
{
    private readonly SidecarConfigStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    // Pending connections that have sent no byte yet, the longest idle first.
    private readonly LinkedList<PendingConnection> _idle = new();
    private int _pending;
    private TaskCompletionSource? _freed;

    public ConnectionSlots(SidecarConfigStore store, TimeProvider timeProvider)
    {
        _store = store;
        _timeProvider = timeProvider;
    }

    /// <summary>Connections accepted whose first request has not been read yet, with any slot reserved for an accept under way.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>
    /// Reserves a slot if one is free. The caller must then either hand it to a connection (<see cref="Bind"/>) or
    /// give it back (<see cref="Return"/>).
    /// </summary>
    public bool TryReserve() => TryReserve(out _);

    /// <summary>
    /// Reserves a slot, waiting while the cap is reached; then as <see cref="TryReserve()"/>. Meanwhile a pending
    /// connection that has sent nothing for <c>limits.idle_connection_timeout</c> is closed to make room (and
    /// <paramref name="idleClosed"/> called), the longest idle first.
    /// </summary>
    public async Task ReserveAsync(CancellationToken cancellationToken, Action? idleClosed = null)
    {
        while (!TryReserve(out var freed))
        {
            if (TryCloseIdle(out var closableIn))
            {
                idleClosed?.Invoke();
            }
            else if (closableIn is { } delay)
            {
                // The longest idle connection may be closed in a moment, unless a slot frees first.
                await Task.WhenAny(freed, Task.Delay(delay, _timeProvider, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
                continue;
            }

            await freed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The reserved slot is freed when <paramref name="connection"/>'s first request is read (<see cref="PendingConnection.Read"/>,
    /// found on the request's features) or when it closes, whichever comes first.
    /// </summary>
    public void Bind(ConnectionContext connection)
    {
        var pending = new PendingConnection(this, connection, _timeProvider.GetTimestamp());
        lock (_lock)
        {
            _idle.AddLast(pending.IdleNode);
        }

        connection.Features.Set(pending);
        connection.ConnectionClosed.UnsafeRegister(static state => ((PendingConnection)state!).Read(), pending);
    }

    /// <summary>
    /// Closes the pending connection that has waited longest without sending a byte, once it has for
    /// <c>limits.idle_connection_timeout</c>: its slot comes back when it has closed. Otherwise <paramref name="closableIn"/>
    /// says when the longest idle one may be closed (null: none is idle).
    /// </summary>
    internal bool TryCloseIdle(out TimeSpan? closableIn)
    {
        PendingConnection? idle;
        // Read per check: a reload applies to connections already waiting.
        var idleBeforeClose = _store.Config.Limits.IdleConnectionTimeout;
        lock (_lock)
        {
            while (true)
            {
                idle = _idle.First?.Value;
                if (idle is null)
                {
                    closableIn = null;
                    return false;
                }

                var idleFor = _timeProvider.GetElapsedTime(idle.AcceptedAt);
                if (idleFor < idleBeforeClose)
                {
                    closableIn = idleBeforeClose - idleFor;
                    return false;
                }

                _idle.Remove(idle.IdleNode);
                // Under a CPU quota in a burst, a connection's first bytes may have arrived long before Kestrel's
                // threads got to them: the kernel's count is the truth, not the gate that has not run yet.
                if (!idle.HasReceivedBytes())
                {
                    break;
                }
            }
        }

        closableIn = null;
        idle.Close();
        return true;
    }
    private void NotIdle(PendingConnection pending)
    {
        lock (_lock)
        {
            if (pending.IdleNode.List is not null)
            {
                _idle.Remove(pending.IdleNode);
            }
        }
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
        // getsockopt(IPPROTO_TCP, TCP_INFO): struct tcp_info's u32 tcpi_last_data_recv (milliseconds) is at byte 52,
        // its u64 tcpi_bytes_received at byte 128 (Linux 4.1+).
        private const int IpProtoTcp = 6;
        private const int TcpInfo = 11;
        private const int TcpInfoLastDataReceived = 52;
        private const int TcpInfoBytesReceived = 128;
        private const int TcpInfoLength = TcpInfoBytesReceived + sizeof(ulong);

        private readonly ConnectionSlots _slots;
        private readonly ConnectionContext _connection;
        private int _read;

        public PendingConnection(ConnectionSlots slots, ConnectionContext connection, long acceptedAt)
        {
            _slots = slots;
            _connection = connection;
            AcceptedAt = acceptedAt;
            IdleNode = new LinkedListNode<PendingConnection>(this);
        }

        /// <summary>When it was accepted, as a <see cref="TimeProvider"/> timestamp.</summary>
        internal long AcceptedAt { get; }

        /// <summary>Its place among the idle connections, while it has sent nothing.</summary>
        internal LinkedListNode<PendingConnection> IdleNode { get; }

        /// <summary>The connection's first bytes arrived: it keeps its slot until its request is read, and is no longer idle.</summary>
        public void SentBytes() => _slots.NotIdle(this);

        /// <summary>Whether it still holds its slot: its first request has not been let in (or ended) yet.</summary>
        public bool Held => Volatile.Read(ref _read) == 0;

        /// <summary>
        /// A request was let in past admission: its connection's slot, if it still holds one, is freed. A request
        /// waiting for admission keeps it, since its connection's unread bytes are still Kestrel's.
        /// </summary>
        public static void Admitted(HttpContext context) => context.Features.Get<PendingConnection>()?.Read();

        /// <summary>
        /// For the first request of a connection that still holds its slot: how long ago the connection's last bytes
        /// reached the host (Linux: <c>tcpi_last_data_recv</c>), which is at least how long a request sent in one go has
        /// been waiting, in the kernel's accept queue and since. Zero for later requests, on other systems, or when the
        /// socket cannot be asked: the request's wait is then counted from when Sidecar read it.
        /// </summary>
        public static TimeSpan WaitedSinceReceived(HttpContext context)
        {
            if (context.Features.Get<PendingConnection>() is not { Held: true } pending || !OperatingSystem.IsLinux())
            {
                return TimeSpan.Zero;
            }

            Span<byte> info = stackalloc byte[TcpInfoLength];
            return pending.TryReadTcpInfo(info) && BinaryPrimitives.ReadUInt32LittleEndian(info[TcpInfoLastDataReceived..]) is var ms and > 0
                ? TimeSpan.FromMilliseconds(ms)
                : TimeSpan.Zero;
        }

        /// <summary>Frees the slot the first time; later calls (every further request, the close) do nothing.</summary>
        public void Read()
        {
            if (Volatile.Read(ref _read) == 0 && Interlocked.Exchange(ref _read, 1) == 0)
            {
                _slots.NotIdle(this);
                _slots.Free();
            }
        }

        /// <summary>
        /// Whether the peer has sent any byte, read by Kestrel or still in the kernel: on Linux the socket's
        /// <c>tcpi_bytes_received</c>, elsewhere bytes waiting to be read. A socket that cannot be asked (already
        /// closing) counts as having sent bytes, so it is never closed for being idle.
        /// </summary>
        internal bool HasReceivedBytes()
        {
            if (_connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
            {
                // Not a socket (another transport): the first-bytes gate's word stands.
                return false;
            }

            Span<byte> info = stackalloc byte[TcpInfoLength];
            if (OperatingSystem.IsLinux() && TryReadTcpInfo(info))
            {
                return BinaryPrimitives.ReadUInt64LittleEndian(info[TcpInfoBytesReceived..]) > 0;
            }

            try
            {
                return socket.Available > 0;
            }
            catch (Exception ex) when (ex is ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                return true;
            }
        }

        /// <summary>Reads the socket's <c>struct tcp_info</c> (Linux) into <paramref name="info"/>: false when it cannot.</summary>
        private bool TryReadTcpInfo(Span<byte> info)
        {
            if (_connection.Features.Get<IConnectionSocketFeature>()?.Socket is not { } socket)
            {
                return false;
            }

            try
            {
                return socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info) >= TcpInfoLength;
            }
            catch (Exception ex) when (ex is ObjectDisposedException or System.Net.Sockets.SocketException)
            {
                return false;
            }
        }

        internal void Close() => _connection.Abort(new ConnectionAbortedException("Closed idle: it sent nothing while max_pending_connections connections were pending."));
    }
}
