using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1 with an ephemeral port, answering with a handler that gets the 1-based number
/// of the request this upstream has seen; each request is recorded (method, path, headers, body). Scripted answers
/// (status sequences, headers, delays) belong on <see cref="ScriptedUpstream"/>: this one is for what WireMock cannot
/// do, such as holding a request until the proxy abandons it and seeing that happen, streaming with pauses, breaking
/// a response mid-body, HTTP/2 only, WebSockets, or answers computed from arbitrary request headers.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private TestUpstream(WebApplication app) => _app = app;

    public Uri Address { get; private set; } = null!;

    public string Url => Address.ToString().TrimEnd('/');

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public int Count => Volatile.Read(ref _count);

    public static Task<TestUpstream> StartAsync(Func<HttpContext, int, Task> handler) => StartAsync(handler, http2Only: false);

    public static Task<TestUpstream> StartAsync(Func<HttpContext, int, Task> handler, bool http2Only) => StartAsync(handler, http2Only, readBody: true);

    /// <summary>
    /// An upstream whose handler reads the request body itself, as it arrives (recorded with an empty body): for
    /// seeing what a proxy forwards before the caller has finished sending.
    /// </summary>
    public static Task<TestUpstream> StartStreamingAsync(Func<HttpContext, int, Task> handler) => StartAsync(handler, http2Only: false, readBody: false);

    private static async Task<TestUpstream> StartAsync(Func<HttpContext, int, Task> handler, bool http2Only, bool readBody)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(System.Net.IPAddress.Loopback, 0, o =>
            o.Protocols = http2Only ? Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2 : Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http1AndHttp2));
        var app = builder.Build();
        var upstream = new TestUpstream(app);
        app.UseWebSockets();
        app.Run(async context =>
        {
            var number = Interlocked.Increment(ref upstream._count);
            using var body = new MemoryStream();
            if (readBody && !context.WebSockets.IsWebSocketRequest)
            {
                await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            }

            upstream.Requests.Enqueue(new RecordedRequest(
                number,
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                body.ToArray(),
                DateTimeOffset.UtcNow));
            await handler(context, number);
        });
        await app.StartAsync();
        upstream.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return upstream;
    }

    public RecordedRequest[] Snapshot() => Requests.ToArray();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }
}
