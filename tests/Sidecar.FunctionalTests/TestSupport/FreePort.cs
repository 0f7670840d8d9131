using System.Net;
using System.Net.Sockets;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>A loopback port that nothing listens on (bound then released), for "connection refused" upstreams.</summary>
public static class FreePort
{
    public static int Get()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
