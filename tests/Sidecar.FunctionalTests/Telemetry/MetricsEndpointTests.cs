using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// Real traffic through the real Sidecar, then <c>/metrics</c> on its admin port: each documented series holds what the
/// traffic did, and the text passes <c>promtool check metrics</c>.
/// </summary>
public sealed class MetricsEndpointTests
{
    private static readonly TimeSpan PollBound = TimeSpan.FromSeconds(10);

    private readonly ITestOutputHelper _output;

    public MetricsEndpointTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task Metrics_JobsAnswering503Twice_CountRequestsRetriesAttemptsAndBackoff()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));

        for (var job = 1; job <= 3; job++)
        {
            using var response = await sidecar.Proxy.GetAsync($"/jobs/{job}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var raw = await sidecar.Proxy.GetAsync("/orders/12345?x=1"))
        {
            Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        }

        var text = await sidecar.Admin.GetStringAsync("/metrics");

        Assert.Equal(3, PrometheusText.Value(text, "sidecar_requests_total", "route=jobs", "outcome=success_after_retry", "policy=p", "method=GET"));
        Assert.Null(PrometheusText.Value(text, "sidecar_requests_total", "route=jobs", "outcome=success"));
        Assert.Equal(6, PrometheusText.Value(text, "sidecar_retries_total", "route=jobs", "reason=503"));
        Assert.Equal(6, PrometheusText.Value(text, "sidecar_upstream_attempts_total", "route=jobs", "cluster=app", "result=5xx"));
        Assert.Equal(3, PrometheusText.Value(text, "sidecar_upstream_attempts_total", "route=jobs", "cluster=app", "result=2xx"));
        Assert.Equal(9, PrometheusText.Value(text, "sidecar_upstream_attempt_duration_seconds_count", "route=jobs", "cluster=app"));
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_request_attempts_bucket", "route=jobs", "le=2"));
        Assert.Equal(3, PrometheusText.Value(text, "sidecar_request_attempts_bucket", "route=jobs", "le=3"));
        Assert.Equal(3, PrometheusText.Value(text, "sidecar_request_attempts_count", "route=jobs"));
        Assert.Equal(9, PrometheusText.Value(text, "sidecar_request_attempts_sum", "route=jobs"));
        Assert.Equal(3, PrometheusText.Value(text, "sidecar_request_duration_seconds_count", "route=jobs"));
        Assert.Equal(6, PrometheusText.Value(text, "sidecar_backoff_seconds_count", "route=jobs"));
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_inflight_requests"));

        // Series that alerts are written against exist at 0 before their first event.
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_retry_after_honored_total", "route=jobs"));
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_retry_budget_exhausted_total", "cluster=app"));

        // The route name is the label; the raw path and query never are.
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=orders", "outcome=success"));
        Assert.DoesNotContain("12345", text, StringComparison.Ordinal);
        Assert.DoesNotContain("/orders", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_EachOutcome_CountedUnderItsLabel()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));

        var text = await DriveEveryOutcomeAsync(sidecar, upstream);

        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=after", "outcome=success_after_retry"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_retry_after_honored_total", "route=after"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=exhausted", "outcome=exhausted"));
        Assert.Equal(2, PrometheusText.Value(text, "sidecar_retries_total", "route=exhausted", "reason=503"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=slow", "outcome=deadline_exceeded"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=post", "outcome=not_retryable", "method=POST"));
        Assert.Null(PrometheusText.Value(text, "sidecar_retries_total", "route=post"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=cancel", "outcome=client_cancelled", "status_class=none"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=down", "outcome=budget_exhausted", "status_class=5xx"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=after", "status_class=2xx"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=slow", "status_class=5xx"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_retry_budget_exhausted_total", "cluster=down"));
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_retry_budget_exhausted_total", "cluster=app"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_upstream_attempts_total", "route=down", "cluster=down", "result=connect_failure"));
        Assert.Equal(0, PrometheusText.Value(text, "sidecar_inflight_requests"));
    }

    [Fact]
    public async Task Metrics_UpstreamFailuresNotRetried_CountedAsFailuresWithTheirStatusClass()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));

        // A route without a policy whose upstream answers 503 to every third request, and a policy route whose
        // upstream answers 500, a status outside its retry_on: Sidecar forwards both failures as they are.
        var callerFailures = 0;
        for (var i = 1; i <= 9; i++)
        {
            using var response = await sidecar.Proxy.GetAsync($"/plain/{i}");
            callerFailures += (int)response.StatusCode >= 500 ? 1 : 0;
        }

        for (var i = 1; i <= 2; i++)
        {
            using var response = await sidecar.Proxy.GetAsync($"/broken/{i}");
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        }

        var text = await MetricAsync(sidecar, "sidecar_requests_total", 2, "route=broken");

        Assert.Equal(3, callerFailures);
        Assert.Equal(3, PrometheusText.Sum(text, "sidecar_requests_total", "route=plain", "outcome=not_retryable"));
        Assert.Equal(0, PrometheusText.Sum(text, "sidecar_requests_total", "route=broken", "outcome=success"));
        Assert.Equal(6, PrometheusText.Value(text, "sidecar_requests_total", "route=plain", "policy=none", "outcome=success", "status_class=2xx"));
        Assert.Equal(3, PrometheusText.Value(text, "sidecar_requests_total", "route=plain", "policy=none", "outcome=not_retryable", "status_class=5xx"));
        Assert.Equal(2, PrometheusText.Value(text, "sidecar_requests_total", "route=broken", "policy=p", "outcome=not_retryable", "status_class=5xx"));
        Assert.Equal(0, PrometheusText.Sum(text, "sidecar_requests_total", "outcome=success", "status_class=5xx"));

        // README's error-ratio SLO query, evaluated on the scrape: what the callers saw.
        Assert.Equal(3, PrometheusText.Sum(text, "sidecar_requests_total", "route=plain", "status_class=5xx"));
        Assert.Equal(9, PrometheusText.Sum(text, "sidecar_requests_total", "route=plain"));
    }

    [Fact]
    public async Task Metrics_ConfigRewrites_CountSuccessAndFailureReloads()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));
        var before = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Equal(0, PrometheusText.Value(before, "sidecar_config_reloads_total", "result=success"));
        Assert.Equal(0, PrometheusText.Value(before, "sidecar_config_reloads_total", "result=failure"));

        await File.WriteAllTextAsync(sidecar.ConfigPath, sidecar.Yaml.Replace("name: jobs", "name: jobs-v2", StringComparison.Ordinal));
        var afterGood = await MetricAsync(sidecar, "sidecar_config_reloads_total", 1, "result=success");
        Assert.Equal(0, PrometheusText.Value(afterGood, "sidecar_config_reloads_total", "result=failure"));
        Assert.Equal(0, PrometheusText.Value(afterGood, "sidecar_retry_after_honored_total", "route=jobs-v2"));

        await File.WriteAllTextAsync(sidecar.ConfigPath, sidecar.Yaml.Replace("cluster: app", "cluster: missing", StringComparison.Ordinal));
        var afterBad = await MetricAsync(sidecar, "sidecar_config_reloads_total", 1, "result=failure");
        Assert.Equal(1, PrometheusText.Value(afterBad, "sidecar_config_reloads_total", "result=success"));
    }

    [ToolFact("promtool")]
    public async Task Metrics_AfterRealTraffic_PassPromtoolCheck()
    {
        var promtool = ExternalTool.Require("promtool");

        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));
        using (var job = await sidecar.Proxy.GetAsync("/jobs/1"))
        {
            Assert.Equal(HttpStatusCode.OK, job.StatusCode);
        }

        var text = await DriveEveryOutcomeAsync(sidecar, upstream);
        Assert.Contains("sidecar_retries_total{", text, StringComparison.Ordinal);

        var (exitCode, output) = await Promtool.CheckMetricsAsync(promtool, text);

        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}):\n{output}\n--- input ---\n{text}");
    }

    [Fact]
    public async Task Metrics_HedgedAttemptHitsPerTryTimeout_CountedAsPerTryTimeoutNotCancelled()
    {
        // The first attempt hangs until Sidecar gives up on it; its per-try timeout (long before the hedge delay)
        // starts the second, which answers.
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            if (context.Request.Headers["x-sidecar-attempt"] == "1")
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            await context.Response.WriteAsync("ok");
        });
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              h:
                max_attempts: 2
                per_try_timeout: 200ms
                hedge: { delay: 10s, max_extra: 1 }
            routes:
              - name: hedged
                cluster: app
                policy: h
            """);

        using (var response = await sidecar.Proxy.GetAsync("/report"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
        }

        var text = await MetricAsync(sidecar, "sidecar_upstream_attempts_total", 1, "route=hedged", "result=per_try_timeout");
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_upstream_attempts_total", "route=hedged", "result=2xx"));
        Assert.Null(PrometheusText.Value(text, "sidecar_upstream_attempts_total", "route=hedged", "result=cancelled"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_retries_total", "route=hedged", "reason=hedge"));
    }

    [Fact]
    public async Task Metrics_DotnetMetricsOn_AlsoServeKestrelHttpClientAndRuntimeSeries()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()) + "\ntelemetry: { dotnet_metrics: true }\n");
        using (var response = await sidecar.Proxy.GetAsync("/orders/1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var text = await sidecar.Admin.GetStringAsync("/metrics");

        Assert.Contains("# TYPE kestrel_active_connections gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE http_client_request_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE dotnet_gc_collections_total counter\n", text, StringComparison.Ordinal);
        Assert.Equal(1, PrometheusText.Value(text, "http_client_request_duration_seconds_count", "http_response_status_code=200", $"server_port={upstream.Address.Port}"));
        Assert.Equal(1, PrometheusText.Value(text, "sidecar_requests_total", "route=orders", "outcome=success"));
    }

    [Fact]
    public async Task Metrics_DotnetMetricsDefault_ServeOnlySidecarSeries()
    {
        await using var upstream = await PerPathUpstreamAsync();
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Url, FreePort.Get()));
        using (var response = await sidecar.Proxy.GetAsync("/orders/1"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var text = await sidecar.Admin.GetStringAsync("/metrics");

        var families = text.Split('\n').Where(line => line.StartsWith("# TYPE ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(families);
        Assert.All(families, line => Assert.StartsWith("# TYPE sidecar_", line, StringComparison.Ordinal));
    }

    /// <summary>
    /// One sidecar config with a route per scenario. The upstream answers by path (see <see cref="PerPathUpstreamAsync"/>);
    /// <c>down</c> points at a closed port with a zero retry budget.
    /// </summary>
    private static string Config(string upstream, int closedPort) => $$"""
        clusters:
          app: { destinations: [{{upstream}}] }
          down: { destinations: ["http://127.0.0.1:{{closedPort}}"] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
          deadline:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            timeout: 300ms
          tiny:
            max_attempts: 3
            backoff: { algorithm: constant, base: 10ms, max: 10ms, jitter: none }
            budget: { ratio: 0, min_per_second: 0 }
        routes:
          - name: jobs
            match: { path: "/jobs/{**rest}" }
            cluster: app
            policy: p
          - name: after
            match: { path: "/after/{**rest}" }
            cluster: app
            policy: p
          - name: exhausted
            match: { path: "/exhausted/{**rest}" }
            cluster: app
            policy: p
          - name: slow
            match: { path: "/slow/{**rest}" }
            cluster: app
            policy: deadline
          - name: post
            match: { path: "/post/{**rest}" }
            cluster: app
            policy: p
          - name: cancel
            match: { path: "/cancel/{**rest}" }
            cluster: app
            policy: p
          - name: down
            match: { path: "/down/{**rest}" }
            cluster: down
            policy: tiny
          - name: orders
            match: { path: "/orders/{**rest}" }
            cluster: app
            policy: p
          - name: plain
            match: { path: "/plain/{**rest}" }
            cluster: app
          - name: broken
            match: { path: "/broken/{**rest}" }
            cluster: app
            policy: p
        """;

    /// <summary>
    /// <c>/jobs/*</c>: 503 twice then 200, per path. <c>/after/*</c>: 503 with <c>Retry-After: 0</c>, then 200.
    /// <c>/exhausted/*</c> and <c>/post/*</c>: always 503. <c>/slow/*</c>: no answer until the caller leaves.
    /// <c>/cancel/*</c>: 503 with <c>Retry-After: 20</c>. <c>/plain/N</c>: 503 when N is a multiple of 3.
    /// <c>/broken/*</c>: 500. Anything else: 200. Kestrel rather than WireMock: the <c>/slow/*</c> request must stay
    /// open until the caller leaves.
    /// </summary>
    private static Task<TestUpstream> PerPathUpstreamAsync()
    {
        var seen = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        return TestUpstream.StartAsync(async (context, _) =>
        {
            var path = context.Request.Path.Value ?? string.Empty;
            var n = seen.AddOrUpdate(path, 1, static (_, count) => count + 1);
            var response = context.Response;
            if (path.StartsWith("/slow/", StringComparison.Ordinal))
            {
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }

            if ((path.StartsWith("/jobs/", StringComparison.Ordinal) && n < 3)
                || (path.StartsWith("/after/", StringComparison.Ordinal) && n == 1)
                || path.StartsWith("/exhausted/", StringComparison.Ordinal)
                || path.StartsWith("/post/", StringComparison.Ordinal)
                || path.StartsWith("/cancel/", StringComparison.Ordinal))
            {
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            }
            else if (path.StartsWith("/plain/", StringComparison.Ordinal) && int.TryParse(path.AsSpan("/plain/".Length), out var i) && i % 3 == 0)
            {
                response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            }
            else if (path.StartsWith("/broken/", StringComparison.Ordinal))
            {
                response.StatusCode = StatusCodes.Status500InternalServerError;
            }

            if (path.StartsWith("/after/", StringComparison.Ordinal))
            {
                response.Headers.RetryAfter = "0";
            }
            else if (path.StartsWith("/cancel/", StringComparison.Ordinal))
            {
                response.Headers.RetryAfter = "20";
            }

            await response.WriteAsync(response.StatusCode == StatusCodes.Status200OK ? "ok" : "busy");
        });
    }

    /// <summary>One request per outcome (see <see cref="Config"/>); returns <c>/metrics</c> once all are counted.</summary>
    private static async Task<string> DriveEveryOutcomeAsync(RunningSidecar sidecar, TestUpstream upstream)
    {
        using (var after = await sidecar.Proxy.GetAsync("/after/1"))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        using (var exhausted = await sidecar.Proxy.GetAsync("/exhausted/1"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, exhausted.StatusCode);
        }

        using (var slow = await sidecar.Proxy.GetAsync("/slow/1"))
        {
            Assert.Equal(HttpStatusCode.GatewayTimeout, slow.StatusCode);
        }

        using (var post = await sidecar.Proxy.PostAsync("/post/1", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, post.StatusCode);
        }

        using (var down = await sidecar.Proxy.GetAsync("/down/1"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, down.StatusCode);
        }

        // The caller leaves while Sidecar waits out the upstream's Retry-After.
        using (var leave = new CancellationTokenSource())
        {
            var cancelled = sidecar.Proxy.GetAsync("/cancel/1", leave.Token);
            await Eventually.ReturnsAsync(
                () => Task.FromResult(upstream.Snapshot().Any(r => r.PathAndQuery.StartsWith("/cancel/", StringComparison.Ordinal))),
                reached => reached,
                PollBound,
                "the /cancel request reaching the upstream");
            await leave.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        }

        return await MetricAsync(sidecar, "sidecar_requests_total", 1, "route=cancel", "outcome=client_cancelled");
    }

    /// <summary>Polls <c>/metrics</c> (bounded) until the sample reaches <paramref name="expected"/>; returns that text.</summary>
    private static Task<string> MetricAsync(RunningSidecar sidecar, string name, double expected, params string[] labels) =>
        Eventually.ReturnsAsync(
            () => sidecar.Admin.GetStringAsync("/metrics"),
            text => PrometheusText.Value(text, name, labels) == expected,
            PollBound,
            $"{name}{{{string.Join(',', labels)}}} reaching {expected}");
}
