using Grpc.Net.Client;
using Sidecar.FunctionalTests.Grpc;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>A real gRPC client (Grpc.Net.Client, h2c) for the <c>Echo</c> service, without client-side retries.</summary>
public sealed class GrpcClient : IDisposable
{
    private readonly GrpcChannel _channel;

    public GrpcClient(Uri address)
    {
        _channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { UseProxy = false, EnableMultipleHttp2Connections = true },
            // The client's own retries stay off: every retry a test sees is Sidecar's.
            MaxRetryAttempts = 0,
        });
        Echo = new Echo.EchoClient(_channel);
    }

    public Echo.EchoClient Echo { get; }

    public void Dispose() => _channel.Dispose();
}
