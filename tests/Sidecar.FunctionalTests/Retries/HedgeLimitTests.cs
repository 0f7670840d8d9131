using System.Net;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>
/// Hedges pass the same retry decision as retries, on the real Sidecar with a real upstream: the cap on concurrent
/// retries bounds the requests a slow upstream gets, a refusing budget is asked once per request rather than at every
/// hedge delay, and an upstream's "do not retry" stops hedging. Counts are small and the tests wait for events.
/// </summary>
public sealed class HedgeLimitTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static string Config(string destination, string policy) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          h:
            max_attempts: 4
            retry_on: { status: [503] }
            {{policy}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: h
        """;

    [Fact]
    public async Task Hedge_ConcurrentRetriesCapOfTwo_BoundsTheRequestsASlowUpstreamHolds()
    {
        const int Requests = 5;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var inFlight = 0;
        var maxInFlight = 0;
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            var now = Interlocked.Increment(ref inFlight);
            InterlockedMax(ref maxInFlight, now);
            try
            {
                await release.Task.WaitAsync(context.RequestAborted);
                await context.Response.WriteAsync("slow");
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref inFlight);
            }
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "budget: { enabled: false }\n    max_concurrent_retries: 2\n    hedge: { delay: 100ms, max_extra: 3 }"));

        var calls = Enumerable.Range(0, Requests).Select(_ => sidecar.Proxy.GetAsync("/x")).ToArray();
        // Two requests may hedge (3 extra attempts each); the other three are refused once and never ask again.
        await Eventually.ReturnsAsync(
            async () =>
            {
                // The handler's own count: the upstream counts a request before its handler runs.
                var text = await sidecar.Admin.GetStringAsync("/metrics");
                return (InFlight: Volatile.Read(ref inFlight), Skipped: PrometheusText.Value(text, "sidecar_retries_skipped_total", "route=r", "reason=concurrency") ?? 0);
            },
            seen => seen.InFlight >= Requests + (2 * 3) && seen.Skipped >= Requests - 2,
            Guard,
            "every hedge decision");

        Assert.Equal(Requests + (2 * 3), Volatile.Read(ref inFlight));
        release.SetResult();
        foreach (var call in calls)
        {
            using var response = await call.WaitAsync(Guard);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(Requests + (2 * 3), upstream.Count);
        Assert.Equal(Requests + (2 * 3), Volatile.Read(ref maxInFlight));
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(Requests - 2, PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=r", "reason=concurrency"));
        Assert.Equal(2 * 3, PrometheusText.Value(metrics, "sidecar_retries_total", "route=r", "reason=hedge"));
    }

    [Fact]
    public async Task Hedge_BudgetRefuses_AskedOnceNotAtEveryDelay()
    {
        var delay = TimeSpan.FromMinutes(10);
        var clock = new TimerWatchingTimeProvider();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            arrived.TrySetResult();
            await release.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("held");
        });
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "budget: { ratio: 0, min_per_second: 0 }\n    hedge: { delay: 10m, max_extra: 3 }"), timeProvider: clock);

        var call = sidecar.Proxy.GetAsync("/x");
        await arrived.Task.WaitAsync(Guard);
        await clock.TimerArmedAsync(delay).WaitAsync(Guard);
        clock.Advance(delay);
        await Eventually.ReturnsAsync(
            async () => PrometheusText.Value(await sidecar.Admin.GetStringAsync("/metrics"), "sidecar_retries_skipped_total", "route=r", "reason=budget") ?? 0,
            skipped => skipped >= 1,
            Guard,
            "the budget's refusal");
        for (var i = 0; i < 3; i++)
        {
            clock.Advance(delay);
        }

        release.SetResult();
        using var response = await call.WaitAsync(Guard);

        Assert.Equal("held", await response.Content.ReadAsStringAsync());
        Assert.Equal("1", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(1, upstream.Count);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=r", "reason=budget"));
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_retry_budget_exhausted_total", "cluster=app"));
    }

    [Fact]
    public async Task Hedge_UpstreamSaysDoNotRetry_ExactlyOneAttempt()
    {
        using var upstream = ScriptedUpstream.Cycle(Response.Create().WithStatusCode(503)
            .WithHeader("x-sidecar-retry-pushback-ms", "-1").WithHeader("Retry-After", "30").WithBody("stop"));
        // A delay no first answer outlasts, even on a loaded machine: only the pushback may stop the replacement.
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "hedge: { delay: 5s, max_extra: 3 }"));

        using var response = await sidecar.Proxy.GetAsync("/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("stop", await response.Content.ReadAsStringAsync());
        Assert.Equal("1", response.Headers.GetValues("x-sidecar-attempts").Single());
        Assert.Equal(1, upstream.Count);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=r", "reason=pushback"));
        Assert.Null(PrometheusText.Value(metrics, "sidecar_retries_total", "route=r", "reason=hedge"));
    }

    private static void InterlockedMax(ref int location, int value)
    {
        for (var current = Volatile.Read(ref location); value > current; current = Volatile.Read(ref location))
        {
            if (Interlocked.CompareExchange(ref location, value, current) == current)
            {
                return;
            }
        }
    }
}
