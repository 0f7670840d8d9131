using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;

namespace Sidecar.Overload;

/// <summary>
/// A connection middleware on the proxy port: holds each new connection until its first bytes arrive, then tells its
/// <see cref="ConnectionSlots.PendingConnection"/> that it is no longer idle and hands it to Kestrel. Only connections
/// that have sent nothing may be closed to make room at <c>limits.max_pending_connections</c>; one that sends
/// nothing for Kestrel's keep-alive timeout is closed, as Kestrel closes an idle keep-alive connection.
/// </summary>
/// <remarks>
/// The read examines nothing, so Kestrel's own first read returns the same bytes at once. While the connection waits
/// here, the socket transport holds no buffer for it (it waits for data before it takes one from the pool).
/// </remarks>
internal sealed class FirstBytesGate
{
    private readonly ConnectionDelegate _next;
    private readonly TimeSpan _idleTimeout;
    private readonly TimeProvider _timeProvider;

    public FirstBytesGate(ConnectionDelegate next, TimeSpan idleTimeout, TimeProvider timeProvider)
    {
        _next = next;
        _idleTimeout = idleTimeout;
        _timeProvider = timeProvider;
    }

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        if (connection.Features.Get<ConnectionSlots.PendingConnection>() is { } pending)
        {
            if (!await FirstBytesAsync(connection.Transport.Input))
            {
                return;
            }

            pending.SentBytes();
        }

        await _next(connection);
    }

    /// <summary>True once bytes are there to read; false when the connection closed, was closed, or stayed idle too long.</summary>
    private async Task<bool> FirstBytesAsync(PipeReader input)
    {
        using var idle = new CancellationTokenSource(_idleTimeout, _timeProvider);
        try
        {
            var result = await input.ReadAsync(idle.Token);
            input.AdvanceTo(result.Buffer.Start);
            return !result.Buffer.IsEmpty;
        }
        catch (Exception ex) when (ex is OperationCanceledException or ConnectionAbortedException or IOException)
        {
            return false;
        }
    }
}
