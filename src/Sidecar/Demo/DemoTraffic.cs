using System.Collections.Concurrent;
using System.Globalization;
using Sidecar.Http;

namespace Sidecar.Demo;

/// <summary>
/// Closed-loop load: each caller sends a GET, waits for the answer, records it, and goes again (at most one request
/// per <see cref="DemoOptions.CallerInterval"/>), alternating between the route with retries and the one without, so
/// both routes see the same callers, the same rate and the same upstream.
/// </summary>
internal sealed class DemoTraffic
{
    private const int WarmUpRounds = 3;

    private readonly HttpClient _client;
    private readonly DemoOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentQueue<DemoSample> _samples = new();
    private int _completed;

    public DemoTraffic(HttpClient client, DemoOptions options, TimeProvider timeProvider)
    {
        _client = client;
        _options = options;
        _timeProvider = timeProvider;
    }

    /// <summary>How many requests <see cref="WarmUpAsync"/> sends.</summary>
    public int WarmUpRequests => WarmUpRounds * _options.Concurrency * 2;

    /// <summary>Requests answered so far (for the progress bar).</summary>
    public int Completed => Volatile.Read(ref _completed);

    public IReadOnlyCollection<DemoSample> Samples => _samples;

    /// <summary>
    /// Sends a few rounds of uncounted requests (each a 503, then a 200 on retry) so the first measured requests do not
    /// pay for JIT compilation and new connections, which a 500ms per-try timeout would see: through the route without
    /// retries, and through the warm-up route, which has the demo's policy on a cluster of its own. Sent through the
    /// measured route, their retries would fill its budget's window and refuse retries for the first 10 s of the run.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        for (var round = 0; round < WarmUpRounds; round++)
        {
            var requests = new Task[_options.Concurrency * 2];
            for (var i = 0; i < requests.Length; i++)
            {
                requests[i] = WarmUpOneAsync(i % 2 == 0 ? DemoPolicy.WarmUpPrefix : DemoPolicy.WithoutRetriesPrefix, cancellationToken);
            }

            await Task.WhenAll(requests);
        }
    }

    /// <summary>
    /// Runs the callers until <paramref name="stop"/> fires; requests in flight then finish and are recorded, unless
    /// <paramref name="abort"/> (Ctrl+C) fires too, which cancels them.
    /// </summary>
    public Task RunAsync(CancellationToken stop, CancellationToken abort)
    {
        var callers = new Task[_options.Concurrency];
        for (var i = 0; i < callers.Length; i++)
        {
            callers[i] = CallerAsync(i, stop, abort);
        }

        return Task.WhenAll(callers);
    }

    private async Task WarmUpOneAsync(string prefix, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, prefix + "/warm-up");
        request.Headers.Add(FlakyUpstream.WarmUpHeader, "1");
        try
        {
            using var response = await _client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException)
        {
            // Only the compilation matters; the measured run reports real failures.
        }
    }

    private async Task CallerAsync(int caller, CancellationToken stop, CancellationToken abort)
    {
        // Half the callers start on each route, so the two routes stay within one request of each other.
        var withRetries = caller % 2 == 0;
        var next = _timeProvider.GetTimestamp();
        for (var n = 0; !stop.IsCancellationRequested; n++, withRetries = !withRetries)
        {
            var path = string.Create(CultureInfo.InvariantCulture, $"{(withRetries ? DemoPolicy.WithRetriesPrefix : DemoPolicy.WithoutRetriesPrefix)}/items/{caller}-{n}");
            var start = _timeProvider.GetTimestamp();
            int status;
            var attempts = 1;
            try
            {
                using var response = await _client.GetAsync(path, HttpCompletionOption.ResponseContentRead, abort);
                status = (int)response.StatusCode;
                if (response.Headers.TryGetValues(SidecarHeaders.Attempts, out var values)
                    && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    attempts = parsed;
                }
            }
            catch (OperationCanceledException) when (abort.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // No response (connection failure or the client's own timeout).
                status = 0;
            }

            _samples.Enqueue(new DemoSample(withRetries, status, attempts, _timeProvider.GetElapsedTime(start)));
            Interlocked.Increment(ref _completed);

            next += (long)(_options.CallerInterval.TotalSeconds * _timeProvider.TimestampFrequency);
            var wait = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), next);
            if (wait <= TimeSpan.Zero)
            {
                next = _timeProvider.GetTimestamp();
                continue;
            }

            try
            {
                await Task.Delay(wait, _timeProvider, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
