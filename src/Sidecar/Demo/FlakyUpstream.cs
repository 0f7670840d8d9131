using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Net.Http.Headers;
using Sidecar.Hosting;
using Sidecar.Http;

namespace Sidecar.Demo;

/// <summary>
/// The demo's built-in upstream on 127.0.0.1 with an ephemeral port: a share of requests get <c>503</c> with
/// <c>Retry-After: 0</c>, a share are answered late, the rest get <c>200</c>. It counts what it served per route
/// (by path prefix) so the report can set what the upstream saw beside what the caller saw.
/// </summary>
internal sealed class FlakyUpstream : IAsyncDisposable
{
    /// <summary>Marks the demo's warm-up requests, which get a fixed answer and are not counted.</summary>
    public const string WarmUpHeader = "x-demo-warmup";

    private readonly WebApplication _app;
    private readonly Random _random;
    private readonly Lock _randomLock = new();
    private readonly double _failureRate;
    private readonly double _slowRate;
    private readonly TimeSpan _slowDelay;

    private FlakyUpstream(WebApplication app, DemoOptions options)
    {
        _app = app;
        _random = new Random(options.Seed);
        _failureRate = options.FailureRate;
        _slowRate = options.SlowRate;
        _slowDelay = options.SlowDelay;
    }

    public Uri Address { get; private set; } = null!;

    public UpstreamCounter WithRetries { get; } = new();

    public UpstreamCounter WithoutRetries { get; } = new();

    public static async Task<FlakyUpstream> StartAsync(DemoOptions options, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "sidecar-demo-upstream", Args = [] });
        builder.Logging.ClearProviders();
        // Ctrl+C belongs to the demo command, which stops the traffic and prints the report; the default console
        // lifetime would take the signal and stop this upstream under the running traffic.
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(IPAddress.Loopback, 0);
        });
        var app = builder.Build();
        var upstream = new FlakyUpstream(app, options);
        app.Run(upstream.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        upstream.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return upstream;
    }

    public async ValueTask DisposeAsync()
    {
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(grace.Token);
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Headers.ContainsKey(WarmUpHeader))
        {
            // Warm-up: a 503 then a 200, so the retry path is compiled before the measured run; not counted.
            var retried = context.Request.Headers[SidecarHeaders.Attempt].ToString() is { Length: > 0 } attempt && attempt != "1";
            context.Response.StatusCode = retried ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers[HeaderNames.RetryAfter] = "0";
            return;
        }

        var counter = context.Request.Path.StartsWithSegments(DemoPolicy.WithoutRetriesPrefix, StringComparison.Ordinal) ? WithoutRetries : WithRetries;
        counter.RecordRequest();
        double roll;
        lock (_randomLock)
        {
            roll = _random.NextDouble();
        }

        if (roll < _failureRate)
        {
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            context.Response.Headers[HeaderNames.RetryAfter] = "0";
            await context.Response.WriteAsync("busy, try again\n", context.RequestAborted);
            return;
        }

        if (roll < _failureRate + _slowRate)
        {
            try
            {
                await Task.Delay(_slowDelay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // Sidecar's per-try timeout (or the caller) gave up on this answer: it is not a success.
                return;
            }
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        await context.Response.WriteAsync("ok\n", context.RequestAborted);
        counter.RecordSuccess();
    }
}
