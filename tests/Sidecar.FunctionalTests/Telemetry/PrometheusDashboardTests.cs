using System.Globalization;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// The operations kit against the real thing: the real Sidecar proxies a failure storm (one route whose upstream answers
/// every attempt 503) beside healthy traffic, a real <c>prometheus</c> scrapes it every second with
/// charts/sidecar/files/sidecar-rules.yaml loaded, and every dashboard query (variables on "All") and every rule
/// expression is evaluated through Prometheus' HTTP API: each parses and runs, the panels return data, and the
/// retry-storm alert's expression (its condition without <c>for:</c>) is false under healthy traffic and true in the storm
/// (where the budget and fast-burn conditions hold too, and every alert's condition is false before it). A cluster with
/// a <c>ca_file</c> puts its CA's expiry on the certificate panel, in days.
/// </summary>
public sealed class PrometheusDashboardTests : IAsyncLifetime
{
    private const string StormRoute = "storm";
    private const string HealthyRoute = "healthy";

    /// <summary>Requests per second each route's traffic is paced at; bounded in count by <see cref="MaxRequestsPerRoute"/>.</summary>
    private const int RequestsPerSecond = 40;

    private const int MaxRequestsPerRoute = 8_000;

    /// <summary>Panels that show nothing until something rare happens: no alert fires within the test (every one has a <c>for:</c>).</summary>
    private static readonly string[] PanelsThatMayBeEmpty = ["Firing Sidecar alerts"];

    private readonly ITestOutputHelper _output;
    private readonly CancellationTokenSource _stop = new();
    private readonly TestCertificates _certificates = TestCertificates.Create();
    private readonly List<Task> _traffic = [];
    private TestUpstream? _upstream;
    private RunningSidecar? _sidecar;
    private PrometheusServer? _prometheus;

    public PrometheusDashboardTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    [ToolFact("prometheus")]
    public async Task FailureStorm_EveryDashboardQueryAndRule_RunsOnPrometheusAndTheStormAlertFiresOnlyInTheStorm()
    {
        var binary = ExternalTool.Require("prometheus");

        _upstream = await TestUpstream.StartAsync((context, _) =>
        {
            context.Response.StatusCode = context.Request.Path.StartsWithSegments("/" + StormRoute, StringComparison.Ordinal) ? 503 : 200;
            return context.Response.WriteAsync("x");
        });
        // storm: every attempt fails; its budget lets retries reach half the upstream's traffic, so about two attempts
        // per request get through (above the alert's 1.5) and the rest are refused by the budget.
        _sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              failing: { destinations: [{{_upstream.Url}}] }
              working: { destinations: [{{_upstream.Url}}] }
              secure:
                destinations: ["https://localhost:1"]
                tls: { ca_file: "{{_certificates.CaFile}}" }
            policies:
              storm:
                max_attempts: 3
                backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
                budget: { ratio: 0.5, min_per_second: 1, window: 10s }
              healthy:
                max_attempts: 3
                backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            routes:
              - name: {{StormRoute}}
                match: { path: "/{{StormRoute}}/{**rest}" }
                cluster: failing
                policy: storm
              - name: {{HealthyRoute}}
                match: { path: "/{{HealthyRoute}}/{**rest}" }
                cluster: working
                policy: healthy
            """);
        _prometheus = PrometheusServer.Start(binary, _sidecar.Admin.BaseAddress!.Port, _output, MonitoringFiles.RulesPath);
        var storm = Alert("SidecarRetryStorm");

        // 1. Healthy traffic only: the route's amplification is recorded (1, nothing retried) and the storm condition is false.
        _traffic.Add(SendAsync(HealthyRoute));
        await _prometheus.WaitForAsync(
            $"namespace_job_route:sidecar_amplification:ratio_rate5m{{route=\"{HealthyRoute}\"}}",
            a => a.Series.Count == 1 && IsAboutOne(a.Series[0].Number),
            "healthy route's amplification recorded");
        var quiet = await _prometheus.QueryAsync(storm);
        Assert.True(quiet.Succeeded, quiet.ToString());
        Assert.Empty(quiet.Series);

        // No alert's condition holds while all is well.
        foreach (var alert in MonitoringFiles.Rules().Where(r => r.IsAlert))
        {
            var answer = await _prometheus.QueryAsync(alert.Expression);
            Assert.True(answer.Succeeded && answer.Series.Count == 0, $"{alert.Name} under healthy traffic: {answer}");
        }

        // 2. The storm beside it: the condition becomes true for the storm route, and only for it.
        _traffic.Add(SendAsync(StormRoute));
        var firing = await _prometheus.WaitForAsync(storm, a => a.Series.Any(s => s.Labels["route"] == StormRoute), "retry-storm condition true");
        var stormSeries = Assert.Single(firing.Series);
        Assert.Equal(StormRoute, stormSeries.Labels["route"]);
        Assert.Equal("sidecar", stormSeries.Labels["job"]);
        var healthy = await _prometheus.QueryAsync($"namespace_job_route:sidecar_amplification:ratio_rate5m{{route=\"{HealthyRoute}\"}}");
        Assert.True(IsAboutOne(Assert.Single(healthy.Series).Number), healthy.ToString());

        // Wait until the storm shows in the 10-second windows the raw panels use, then read everything once.
        await _prometheus.WaitForAsync("sum(rate(sidecar_retry_budget_exhausted_total[10s])) > 0", a => a.Series.Count > 0, "budget refusals in a 10s window");

        // The storm's other symptoms: its budget refuses retries, and its callers get nothing but 5xx.
        await _prometheus.WaitForAsync(
            Alert("SidecarRetryBudgetExhausted"), a => a.Series.Count == 1 && a.Series[0].Labels["cluster"] == "failing", "budget condition true for cluster failing only");
        await _prometheus.WaitForAsync(
            Alert("SidecarErrorBudgetBurnFast"), a => a.Series.Count == 1 && a.Series[0].Labels["route"] == StormRoute, "fast-burn condition true for the storm route only");

        // 3. Every rule expression parses and runs.
        var report = new StringBuilder();
        foreach (var rule in MonitoringFiles.Rules())
        {
            var answer = await _prometheus.QueryAsync(rule.Expression);
            Assert.True(answer.Succeeded, $"{rule.Group}/{rule.Name}: {answer}");
            report.Append(rule.IsAlert ? "alert " : "record ").Append(rule.Name).Append(": ").AppendLine(Summarize(answer));
        }

        // 4. Every dashboard query parses and runs; every panel but the alerts one returns data.
        var panels = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var query in MonitoringFiles.DashboardQueries())
        {
            var expression = MonitoringFiles.Substitute(query.Expression, rateInterval: "10s", range: "5m");
            var answer = await _prometheus.QueryAsync(expression);
            Assert.True(answer.Succeeded, $"panel '{query.Panel}': {expression}\n{answer}");
            panels[query.Panel] = panels.GetValueOrDefault(query.Panel) || answer.Series.Any(s => !double.IsNaN(s.Number));
            report.Append("panel ").Append(query.Panel).Append(" | ").Append(query.Expression.Length > 60 ? query.Expression[..60] + "..." : query.Expression)
                .Append(": ").AppendLine(Summarize(answer));
        }

        _output.WriteLine(report.ToString());
        var empty = panels.Where(p => !p.Value && !PanelsThatMayBeEmpty.Contains(p.Key)).Select(p => p.Key).ToList();
        Assert.True(empty.Count == 0, $"panels without data in the storm: {string.Join(", ", empty)}\n{report}");

        // The certificate panel reads the CA's days left (it expires in 5 years), in days.
        var expiry = await _prometheus.QueryAsync(MonitoringFiles.Substitute(
            MonitoringFiles.DashboardQueries().First(q => q.Panel == "Certificate expiry").Expression, rateInterval: "10s", range: "5m"));
        var ca = Assert.Single(expiry.Series);
        Assert.Equal(("secure", "ca"), (ca.Labels["cluster"], ca.Labels["kind"]));
        var daysLeft = (_certificates.Authority.NotAfter.ToUniversalTime() - DateTime.UtcNow).TotalDays;
        Assert.True(Math.Abs(ca.Number - daysLeft) < 1, $"CA expires in {daysLeft:F1} days; the panel says {ca.Number}");

        // 5. The template variables list what the traffic made: route and cluster (label_values as a query).
        var routes = await _prometheus.QueryAsync("count by (route) (sidecar_requests_total)");
        Assert.Equal([HealthyRoute, StormRoute], routes.Series.Select(s => s.Labels["route"]).Order(StringComparer.Ordinal));
        var clusters = await _prometheus.QueryAsync("count by (cluster) (sidecar_upstream_attempts_total)");
        Assert.Equal(["failing", "working"], clusters.Series.Select(s => s.Labels["cluster"]).Order(StringComparer.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_traffic);
        if (_prometheus is not null)
        {
            await _prometheus.DisposeAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        _stop.Dispose();
        _certificates.Dispose();
    }

    /// <summary>Requests on <paramref name="route"/> at <see cref="RequestsPerSecond"/>, until the test ends or <see cref="MaxRequestsPerRoute"/>.</summary>
    private async Task SendAsync(string route)
    {
        using var pace = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / RequestsPerSecond));
        try
        {
            for (var i = 0; i < MaxRequestsPerRoute && await pace.WaitForNextTickAsync(_stop.Token); i++)
            {
                using var response = await _sidecar!.Proxy.GetAsync($"/{route}/{i}", _stop.Token);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
    }

    /// <summary>The condition of the alert <paramref name="name"/>: its expression, without the <c>for:</c> that would hold it pending.</summary>
    private static string Alert(string name) => MonitoringFiles.Rules().Single(r => r.IsAlert && r.Name == name).Expression;

    /// <summary>
    /// One attempt per request, give or take a scrape that fell between an attempt's end (counted) and its request's
    /// end (counted a moment later).
    /// </summary>
    private static bool IsAboutOne(double amplification) => amplification is > 0.95 and < 1.05;

    private static string Summarize(PrometheusServer.QueryAnswer answer)
    {
        if (answer.Series.Count == 0)
        {
            return "(no data)";
        }

        return string.Join("; ", answer.Series.Take(6).Select(s =>
            string.Join(",", s.Labels.Where(l => l.Key is not ("job" or "instance" or "__name__")).OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Value))
            + "=" + (double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v.ToString("G4", CultureInfo.InvariantCulture) : s.Value)))
            + (answer.Series.Count > 6 ? $"; ... ({answer.Series.Count} series)" : string.Empty);
    }
}
