using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Sidecar.FunctionalTests.Grpc;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A real gRPC server (Grpc.AspNetCore on Kestrel, h2c) on 127.0.0.1 with an ephemeral port, serving the
/// <c>Echo</c> service of <c>Grpc/echo.proto</c>. Each call is recorded with the deadline headers it arrived with, then
/// handed to the test's script with its 1-based number: the script may throw an <see cref="RpcException"/>, add
/// trailers (pushback) or wait; when it returns, the call echoes as usual.
/// </summary>
public sealed class GrpcUpstream : IAsyncDisposable
{
    private WebApplication _app = null!;
    private int _count;

    private GrpcUpstream(Func<int, ServerCallContext, Task> script) => Script = script;

    public string Url { get; private set; } = null!;

    public ConcurrentQueue<GrpcCallRecord> Calls { get; } = new();

    public int Count => Volatile.Read(ref _count);

    internal Func<int, ServerCallContext, Task> Script { get; }

    /// <param name="script">What call n does before it answers.</param>
    /// <param name="certificate">Serve gRPC over TLS with this certificate (HTTP/2 by ALPN); cleartext h2c without.</param>
    public static async Task<GrpcUpstream> StartAsync(Func<int, ServerCallContext, Task>? script = null, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o =>
        {
            o.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2;
            if (certificate is not null)
            {
                o.UseHttps(certificate);
            }
        }));
        var upstream = new GrpcUpstream(script ?? ((_, _) => Task.CompletedTask));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(upstream);
        var app = builder.Build();
        upstream._app = app;
        app.MapGrpcService<EchoService>();
        await app.StartAsync();
        upstream.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        return upstream;
    }

    public GrpcCallRecord[] Snapshot() => Calls.ToArray();

    /// <summary>Records the call, then runs the script; returns the call's number.</summary>
    internal async Task<int> BeginAsync(ServerCallContext context)
    {
        var number = Interlocked.Increment(ref _count);
        var headers = context.GetHttpContext().Request.Headers;
        Calls.Enqueue(new GrpcCallRecord(
            number,
            context.Method,
            headers["grpc-timeout"].ToString() is { Length: > 0 } timeout ? timeout : null,
            headers["grpc-previous-rpc-attempts"].ToString() is { Length: > 0 } previous ? previous : null,
            System.Diagnostics.Stopwatch.GetTimestamp()));
        await Script(number, context);
        return number;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }

    private sealed class EchoService : Echo.EchoBase
    {
        private readonly GrpcUpstream _upstream;

        public EchoService(GrpcUpstream upstream) => _upstream = upstream;

        public override async Task<EchoReply> Unary(EchoRequest request, ServerCallContext context)
        {
            var number = await _upstream.BeginAsync(context);
            return new EchoReply { Text = request.Text, Call = number };
        }

        public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
        {
            var number = await _upstream.BeginAsync(context);
            for (var i = 0; i < request.Count; i++)
            {
                await responseStream.WriteAsync(new EchoReply { Text = $"{request.Text}-{i}", Call = number });
            }
        }

        public override async Task<EchoReply> ClientStream(IAsyncStreamReader<EchoRequest> requestStream, ServerCallContext context)
        {
            var number = await _upstream.BeginAsync(context);
            var texts = new List<string>();
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                texts.Add(request.Text);
            }

            return new EchoReply { Text = string.Join(",", texts), Call = number };
        }

        public override async Task Bidi(IAsyncStreamReader<EchoRequest> requestStream, IServerStreamWriter<EchoReply> responseStream, ServerCallContext context)
        {
            var number = await _upstream.BeginAsync(context);
            await foreach (var request in requestStream.ReadAllAsync(context.CancellationToken))
            {
                await responseStream.WriteAsync(new EchoReply { Text = request.Text, Call = number });
            }
        }
    }
}

/// <summary>One call as the gRPC upstream saw it: its deadline header, A6's attempt count, and when (a Stopwatch timestamp).</summary>
public sealed record GrpcCallRecord(int Number, string Method, string? GrpcTimeout, string? PreviousRpcAttempts, long Timestamp);
