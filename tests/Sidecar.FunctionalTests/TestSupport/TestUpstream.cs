using System.Collections.Concurrent;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A real Kestrel upstream on 127.0.0.1 with an ephemeral port. Each request is recorded (method, path, headers,
/// body) and answered by the handler, which gets the 1-based number of the request this upstream has seen.
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

    public static async Task<TestUpstream> StartAsync(Func<HttpContext, int, Task> handler, bool http2Only)
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
            if (!context.WebSockets.IsWebSocketRequest)
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

    /// <summary>Answers every request with <paramref name="status"/> and a short text body.</summary>
    public static Task<TestUpstream> StatusAsync(int status, string body = "ok") =>
        StartAsync(async (context, _) =>
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync(body);
        });

    public RecordedRequest[] Snapshot() => Requests.ToArray();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(TimeSpan.FromSeconds(2));
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(int Number, string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTimeOffset At)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}
