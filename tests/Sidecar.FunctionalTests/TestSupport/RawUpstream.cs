using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A TCP upstream on 127.0.0.1 port 0 that speaks HTTP/1.1 by hand, for faults Kestrel will not produce on purpose
/// (closing or resetting before any response byte). Each accepted connection goes to the handler with its 1-based number.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<int, RawConnection, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _connections = [];
    private readonly Task _acceptLoop;
    private int _count;

    private RawUpstream(Func<int, RawConnection, Task> handler)
    {
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptAsync();
    }

    public string Url => "http://127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _count);

    public static RawUpstream Start(Func<int, RawConnection, Task> handler) => new(handler);

    /// <summary>
    /// An upstream that answers every first attempt (<c>x-sidecar-attempt: 1</c>) 503 and any retry 200 <c>ok</c>, one
    /// request per connection: a request succeeds only if it gets its retry.
    /// </summary>
    public static RawUpstream FirstAttemptFails() => new(static async (_, connection) =>
    {
        var head = (await connection.ReadRequestAsync()).Head;
        await connection.WriteAsync(RawResponse.HeaderIn(head, "x-sidecar-attempt") == "1"
            ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
            : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        Task[] running;
        lock (_connections)
        {
            running = [.. _connections];
        }

        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            var number = Interlocked.Increment(ref _count);
            var task = ServeAsync(number, socket);
            lock (_connections)
            {
                _connections.Add(task);
            }
        }
    }

    private async Task ServeAsync(int number, Socket socket)
    {
        using var connection = new RawConnection(socket, _stop.Token);
        try
        {
            await _handler(number, connection);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The proxy went away first: fine for a fault upstream.
        }
    }
}

/// <summary>One accepted connection of a <see cref="RawUpstream"/>.</summary>
public sealed class RawConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly CancellationToken _stopping;

    internal RawConnection(Socket socket, CancellationToken stopping)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
        _stopping = stopping;
    }

    /// <summary>Reads the request line and headers (up to the blank line) and returns them.</summary>
    public async Task<string> ReadRequestHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one, _stopping) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    /// <summary>Reads the request head and, when it declares a <c>Content-Length</c>, that many body bytes.</summary>
    public async Task<(string Head, byte[] Body)> ReadRequestAsync()
    {
        var head = await ReadRequestHeadAsync();
        var length = RawResponse.HeaderIn(head, "Content-Length") is { } declared ? int.Parse(declared, System.Globalization.CultureInfo.InvariantCulture) : 0;
        var body = new byte[length];
        await _stream.ReadExactlyAsync(body, _stopping);
        return (head, body);
    }

    public async Task WriteAsync(string text) => await _stream.WriteAsync(Encoding.ASCII.GetBytes(text), _stopping);

    /// <summary>Ends the connection: a FIN, or with <paramref name="reset"/> an RST (linger 0).</summary>
    public void Close(bool reset)
    {
        if (reset)
        {
            _socket.LingerState = new LingerOption(true, 0);
        }
        else
        {
            _socket.Shutdown(SocketShutdown.Both);
        }

        _socket.Close();
    }

    public void Dispose()
    {
        _stream.Dispose();
        _socket.Dispose();
    }
}
