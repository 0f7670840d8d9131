using System.Globalization;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>A caller that gives up while Sidecar waits to retry: the pending retry is cancelled, not sent.</summary>
public sealed class CallerDisconnectTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData("backoff")]
    [InlineData("retry-after")]
    public async Task Proxy_CallerDisconnectsDuringBackoff_NoFurtherAttempt(string waitKind)
    {
        var serverDirected = waitKind == "retry-after";
        var busy = Response.Create().WithStatusCode(503).WithBody("busy");
        using var upstream = ScriptedUpstream.Start(serverDirected ? busy.WithHeader("Retry-After", ((int)Wait.TotalSeconds).ToString(CultureInfo.InvariantCulture)) : busy);
        var backoff = serverDirected ? "10ms" : $"{Wait.TotalMilliseconds}ms";
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                max_attempts: 3
                backoff: { algorithm: constant, base: {{backoff}}, max: {{backoff}}, jitter: none }
                retry_on: { status: [503] }
                retry_after: { honor: true, max: 30s }
                timeout: 30s
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            """);
        using var cancel = new CancellationTokenSource();

        var call = sidecar.Proxy.GetAsync("/x", cancel.Token);
        await Eventually.ReturnsAsync(() => Task.FromResult(sidecar.Logs.GetSnapshot().Any(r => r.Id.Id == 200)), waiting => waiting, TimeSpan.FromSeconds(10), "Sidecar logging its first retry");
        var firstAttemptAt = upstream.Snapshot()[0].At;
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually.ReturnsAsync(() => sidecar.Admin.GetStringAsync("/metrics"), metrics => ClientCancelled(metrics) == 1, TimeSpan.FromSeconds(10), "a client_cancelled request in /metrics");
        // The retry was due Wait after the first attempt; give it that and a second more to show it never comes.
        var quietUntil = firstAttemptAt + Wait + TimeSpan.FromSeconds(1);
        if (quietUntil > DateTimeOffset.UtcNow)
        {
            await Task.Delay(quietUntil - DateTimeOffset.UtcNow);
        }

        Assert.Equal(1, upstream.Count);
        sidecar.Logs.AssertNoBugs();
    }

    private static double ClientCancelled(string metrics)
    {
        foreach (var line in metrics.Split('\n'))
        {
            if (line.StartsWith("sidecar_requests_total{", StringComparison.Ordinal) && line.Contains("outcome=\"client_cancelled\"", StringComparison.Ordinal))
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
