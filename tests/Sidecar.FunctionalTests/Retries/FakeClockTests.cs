using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Telemetry;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>
/// Per-try timeouts and hedge delays run on Sidecar's <see cref="TimeProvider"/>: with a fake clock they fire when,
/// and only when, the test moves the clock. Timeouts are minutes long, so on the real clock nothing would happen
/// while the test runs. The waits below only guard against a hang.
/// </summary>
public sealed class FakeClockTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    private static string Config(string destination, string policy) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { status: [503], errors: [per-try-timeout] }
            {{policy}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        """;

    [Fact]
    public async Task PerTryTimeout_FiresWhenTheFakeClockReachesIt()
    {
        var perTry = TimeSpan.FromMinutes(5);
        var clock = new TimerWatchingTimeProvider();
        await using var upstream = await HangingFirstAttemptAsync(out var firstArrived, out var firstAborted);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "max_attempts: 1\n    per_try_timeout: 5m"), timeProvider: clock);
        using var durations = AttemptDurations(sidecar);

        var call = sidecar.Proxy.GetAsync("/x");
        await firstArrived.WaitAsync(Guard);
        await clock.TimerArmedAsync(perTry).WaitAsync(Guard);
        clock.Advance(perTry - OneTick);

        Assert.False(call.IsCompleted);
        Assert.False(firstAborted.IsCompleted);

        clock.Advance(OneTick);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        await firstAborted.WaitAsync(Guard);
        Assert.Equal(perTry.TotalSeconds, Assert.Single(durations.GetMeasurementSnapshot()).Value);
    }

    [Fact]
    public async Task HedgeDelay_NextAttemptStartsWhenTheFakeClockReachesIt()
    {
        var delay = TimeSpan.FromMinutes(10);
        var clock = new TimerWatchingTimeProvider();
        await using var upstream = await HangingFirstAttemptAsync(out var firstArrived, out var firstAborted);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "max_attempts: 2\n    hedge: { delay: 10m, max_extra: 1 }"), timeProvider: clock);

        var call = sidecar.Proxy.GetAsync("/x");
        await firstArrived.WaitAsync(Guard);
        await clock.TimerArmedAsync(delay).WaitAsync(Guard);
        clock.Advance(delay - OneTick);

        Assert.Equal(1, upstream.Count);
        Assert.False(call.IsCompleted);

        clock.Advance(OneTick);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        await firstAborted.WaitAsync(Guard);
    }

    [Fact]
    public async Task HedgedAttemptPerTryTimeout_FiresWhenTheFakeClockReachesIt()
    {
        var perTry = TimeSpan.FromMinutes(5);
        var clock = new TimerWatchingTimeProvider();
        await using var upstream = await HangingFirstAttemptAsync(out var firstArrived, out var firstAborted);
        // The hedge delay (1h) never comes: the second attempt can only start because the first one timed out.
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "max_attempts: 2\n    per_try_timeout: 5m\n    hedge: { delay: 1h, max_extra: 1 }"), timeProvider: clock);
        using var durations = AttemptDurations(sidecar);

        var call = sidecar.Proxy.GetAsync("/x");
        await firstArrived.WaitAsync(Guard);
        await clock.TimerArmedAsync(perTry).WaitAsync(Guard);
        clock.Advance(perTry - OneTick);

        Assert.False(firstAborted.IsCompleted);
        Assert.Equal(1, upstream.Count);

        clock.Advance(OneTick);
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("second", await response.Content.ReadAsStringAsync());
        await firstAborted.WaitAsync(Guard);
        Assert.Contains(perTry.TotalSeconds, durations.GetMeasurementSnapshot().Select(m => m.Value));
    }

    /// <summary>
    /// Kestrel rather than WireMock: the first request must stay open until Sidecar abandons it, and the test must
    /// see that happen (WireMock's delays run to their end whatever the client does).
    /// </summary>
    private static Task<TestUpstream> HangingFirstAttemptAsync(out Task firstArrived, out Task firstAborted)
    {
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        firstArrived = arrived.Task;
        firstAborted = aborted.Task;
        return TestUpstream.StartAsync(async (context, n) =>
        {
            if (n == 1)
            {
                arrived.TrySetResult();
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    aborted.TrySetResult();
                }

                return;
            }

            await context.Response.WriteAsync("second");
        });
    }

    private static MetricCollector<double> AttemptDurations(RunningSidecar sidecar) =>
        new(sidecar.Host.Services.GetRequiredService<IMeterFactory>(), SidecarMetrics.MeterName, "sidecar.upstream.attempt.duration");
}
