namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A Kestrel upstream that holds requests (those to one path, or all) until <see cref="Release"/>, then answers them
/// <c>done</c>; the others are answered at once. For tests that need a request slot taken for as long as they choose.
/// </summary>
public sealed class HeldUpstream : IAsyncDisposable
{
    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TestUpstream? _upstream;

    private HeldUpstream()
    {
    }

    public string Url => _upstream!.Url;

    /// <summary>Completes when the first held request has reached the upstream.</summary>
    public Task Arrived => _arrived.Task;

    /// <param name="heldPath">The path whose requests are held; null holds every request.</param>
    public static async Task<HeldUpstream> StartAsync(string? heldPath = null)
    {
        var held = new HeldUpstream();
        held._upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            if (heldPath is null || context.Request.Path == heldPath)
            {
                held._arrived.TrySetResult();
                await held._released.Task;
            }

            await context.Response.WriteAsync("done");
        });
        return held;
    }

    /// <summary>Lets the held requests (and any later ones) be answered.</summary>
    public void Release() => _released.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Release();
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }
}
