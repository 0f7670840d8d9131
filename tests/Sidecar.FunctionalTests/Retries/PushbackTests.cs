using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Retries;

/// <summary>
/// The upstream's <c>x-sidecar-retry-pushback-ms</c> obeys the same policy as <c>Retry-After</c>, and requests parked on
/// one upstream's pushback cannot take every backoff slot from the other clusters.
/// </summary>
public sealed class PushbackTests
{
    private static string Config(string destination, string retryAfter) => $$"""
        clusters:
          app: { destinations: [{{destination}}] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            retry_on: { status: [503] }
            retry_after: {{retryAfter}}
            timeout: 10s
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: app
            policy: p
        """;

    [Theory]
    [InlineData("{ honor: true, max: 20ms }")]
    [InlineData("{ honor: false, max: 30s }")]
    public async Task Retry_PushbackLongerThanAllowed_CappedOrIgnoredLikeRetryAfter(string retryAfter)
    {
        // Ten minutes: past the 10 s deadline, so an uncapped wait is refused outright and the 503 returned.
        await using var upstream = FirstThen("503 Service Unavailable\r\nx-sidecar-retry-pushback-ms: 600000", "200 OK");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, retryAfter));

        var response = await Get(sidecar, "/x");

        Assert.Equal(200, response.Status);
        Assert.Equal("2", response.Header("x-sidecar-attempts"));
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(retryAfter.Contains("honor: true", StringComparison.Ordinal) ? 1 : 0, PrometheusText.Value(metrics, "sidecar_retry_after_honored_total", "route=r"));
    }

    [Fact]
    public async Task Retry_NegativePushbackWithHonorOff_StillStopsRetries()
    {
        await using var upstream = FirstThen("503 Service Unavailable\r\nx-sidecar-retry-pushback-ms: -1", "200 OK");
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, "{ honor: false }"));

        var response = await Get(sidecar, "/x");

        // "Do not retry" only ever lowers the load on the upstream, so honor: false does not override it.
        Assert.Equal(503, response.Status);
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task Retry_OneClusterParkedOnPushback_OtherClustersStillRetry()
    {
        await using var parked = RawUpstream.Start(async (_, connection) =>
        {
            await connection.ReadRequestAsync();
            await connection.WriteAsync("HTTP/1.1 503 Service Unavailable\r\nx-sidecar-retry-pushback-ms: 30000\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
        });
        // Every first attempt fails: a request succeeds only if it gets its retry.
        await using var flaky = RawUpstream.FirstAttemptFails();
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              parked: { destinations: [{{parked.Url}}] }
              flaky: { destinations: [{{flaky.Url}}] }
            policies:
              p:
                max_attempts: 2
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
                retry_on: { status: [503] }
                retry_after: { honor: true, max: 1m }
                timeout: 2m
                budget: off
            routes:
              - name: parked
                match: { path: "/parked/{**rest}" }
                cluster: parked
                policy: p
              - name: flaky
                match: { path: "/flaky/{**rest}" }
                cluster: flaky
                policy: p
            limits:
              max_waiting_retries: 8
            """);

        using var leave = new CancellationTokenSource();
        var parkedCalls = Enumerable.Range(0, 8).Select(_ => ParkAsync(sidecar, leave.Token)).ToArray();
        // Every parked request has either taken a backoff slot (a retry was scheduled) or been refused one.
        await Eventually.ReturnsAsync(
            async () =>
            {
                var text = await sidecar.Admin.GetStringAsync("/metrics");
                return (PrometheusText.Value(text, "sidecar_retries_total", "route=parked") ?? 0)
                    + (PrometheusText.Value(text, "sidecar_retries_skipped_total", "route=parked", "reason=backoff_cap") ?? 0);
            },
            decided => decided == 8,
            TimeSpan.FromSeconds(10),
            "eight parked requests decided");

        var succeeded = 0;
        for (var i = 0; i < 10; i++)
        {
            var response = await Get(sidecar, "/flaky/x");
            succeeded += response.Status == 200 ? 1 : 0;
        }

        await leave.CancelAsync();
        await Task.WhenAll(parkedCalls);

        Assert.Equal(10, succeeded);
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Null(PrometheusText.Value(metrics, "sidecar_retries_skipped_total", "route=flaky", "reason=backoff_cap"));
        sidecar.Logs.AssertNoBugs();
    }

    private static async Task ParkAsync(RunningSidecar sidecar, CancellationToken leave)
    {
        try
        {
            using var response = await sidecar.Proxy.GetAsync("/parked/x", leave);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static RawUpstream FirstThen(string first, string then) => RawUpstream.Start(async (n, connection) =>
    {
        await connection.ReadRequestAsync();
        await connection.WriteAsync($"HTTP/1.1 {(n == 1 ? first : then)}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi");
    });

    private static Task<RawResponse> Get(RunningSidecar sidecar, string path) =>
        RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"GET {path} HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");
}
