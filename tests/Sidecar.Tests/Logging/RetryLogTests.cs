using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Logging;
using Sidecar.Circuits;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Tests.Logging;

public sealed class RetryLogTests
{
    private const int CircuitOpenedEvent = 202;
    private const int CircuitOpenedAgainEvent = 203;
    private const int CircuitClosedEvent = 204;
    private const int BudgetExhaustedEvent = 205;
    private const int BudgetRecoveredEvent = 206;
    private const int SummaryEvent = 210;
    private const int OtherRoutesEvent = 211;

    private static readonly TimeSpan Interval = LogConstants.SummaryInterval;

    private readonly FakeTimeProvider _time = new();
    private readonly FakeLogger<RetryLog> _logger = new();
    private readonly CircuitBreakerRegistry _breakers;

    public RetryLogTests() => _breakers = new CircuitBreakerRegistry(_time);

    [Fact]
    public void Summarize_RouteThatRetried_OneInformationLineWithTheStableFields()
    {
        var log = Log();
        var route = log.ForRoute("orders", "app");
        route.Retried("503");
        route.Retried("503");
        route.Retried(RetryReason.Reset);
        route.Skipped(RetrySkipReason.Deadline);

        log.Summarize(Interval);

        var line = Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == SummaryEvent);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal("Sidecar.Logging.RetryLog", line.Category);
        Assert.Equal(
            new Dictionary<string, string?>
            {
                ["Route"] = "orders",
                ["Cluster"] = "app",
                ["IntervalSeconds"] = "10",
                ["Retries"] = "3",
                ["RetryReasons"] = "reset=1,503=2",
                ["Exhausted"] = "0",
                ["NoResponse"] = "0",
                ["BudgetRefused"] = "0",
                ["Skipped"] = "1",
                ["SkipReasons"] = "deadline=1",
            },
            line.StructuredState!.Where(kv => kv.Key != "{OriginalFormat}").ToDictionary(kv => kv.Key, kv => kv.Value));
        Assert.Equal("Route orders (cluster app), last 10s: 3 retries (reset=1,503=2), 0 exhausted, 0 without upstream response, 0 retries refused by the budget, 1 skipped (deadline=1)", line.Message);
    }

    [Fact]
    public void Summarize_NothingHappened_LogsNothing()
    {
        var log = Log();
        _ = log.ForRoute("orders", "app");

        log.Summarize(Interval);

        Assert.Equal(0, _logger.Collector.Count);
    }

    [Fact]
    public void Summarize_AStormOfRetries_StillOneLinePerRoute()
    {
        var log = Log();
        var route = log.ForRoute("orders", "app");
        for (var i = 0; i < 100_000; i++)
        {
            route.Retried("503");
        }

        log.Summarize(Interval);

        var line = Assert.Single(_logger.Collector.GetSnapshot());
        Assert.Equal("100000", line.GetStructuredStateValue("Retries"));
    }

    [Fact]
    public void Summarize_RequestsFailed_LineIsAWarning()
    {
        var log = Log();
        log.ForRoute("orders", "app").NoResponse();
        log.ForRoute("users", "app").Exhausted();

        log.Summarize(Interval);

        Assert.All(_logger.Collector.GetSnapshot(), r => Assert.Equal(LogLevel.Warning, r.Level));
        Assert.Equal(2, _logger.Collector.Count);
    }

    [Fact]
    public void Summarize_MoreActiveRoutesThanTheCap_BusiestNamedTheRestInOneLine()
    {
        var log = Log(maxRouteSummaries: 2);
        for (var r = 1; r <= 5; r++)
        {
            var route = log.ForRoute("r" + r, "app");
            for (var i = 0; i < r; i++)
            {
                route.Retried("503");
            }
        }

        log.Summarize(Interval);

        var lines = _logger.Collector.GetSnapshot();
        Assert.Equal(["r5", "r4"], lines.Where(l => l.Id.Id == SummaryEvent).Select(l => l.GetStructuredStateValue("Route")));
        var rest = Assert.Single(lines, l => l.Id.Id == OtherRoutesEvent);
        Assert.Equal("3", rest.GetStructuredStateValue("RouteCount"));
        Assert.Equal("6", rest.GetStructuredStateValue("Retries"));
        Assert.Equal(LogLevel.Information, rest.Level);
    }

    [Fact]
    public void BudgetRefused_ManyTimes_OneStartLineThenOneEndLineAfterAQuietInterval()
    {
        var log = Log();
        var route = log.ForRoute("orders", "app");

        for (var i = 0; i < 1000; i++)
        {
            route.Skipped(RetrySkipReason.Budget);
        }

        var start = Assert.Single(_logger.Collector.GetSnapshot(clear: true));
        Assert.Equal((BudgetExhaustedEvent, LogLevel.Warning, "app"), (start.Id.Id, start.Level, start.GetStructuredStateValue("Cluster")));

        _time.Advance(Interval);
        log.Summarize(Interval);
        route.Skipped(RetrySkipReason.Budget);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(clear: true), r => r.Id.Id is BudgetRecoveredEvent or BudgetExhaustedEvent);

        _time.Advance(Interval);
        log.Summarize(Interval);
        Assert.DoesNotContain(_logger.Collector.GetSnapshot(clear: true), r => r.Id.Id == BudgetRecoveredEvent);

        _time.Advance(Interval);
        log.Summarize(Interval);
        var end = Assert.Single(_logger.Collector.GetSnapshot(clear: true), r => r.Id.Id == BudgetRecoveredEvent);
        Assert.Equal(LogLevel.Information, end.Level);
        Assert.Equal("1001", end.GetStructuredStateValue("BudgetRefused"));
        Assert.Equal("30", end.GetStructuredStateValue("DurationSeconds"));
        Assert.False(route.Cluster.BudgetExhausted);

        route.Skipped(RetrySkipReason.Budget);
        Assert.Single(_logger.Collector.GetSnapshot(), r => r.Id.Id == BudgetExhaustedEvent);
    }

    [Fact]
    public void CircuitOpened_FlappingWithinAnInterval_OneOpenAndOneCloseLine()
    {
        var log = Log();
        var cluster = Cluster(failureRatio: 0.5);
        var breaker = _breakers.Get(cluster)!;
        var destination = new DestinationState("d1");
        var route = log.ForRoute("orders", "app");

        Open(breaker, destination, route);
        CloseByProbe(breaker, destination);
        Open(breaker, destination, route);
        log.Summarize(Interval);

        var lines = _logger.Collector.GetSnapshot(clear: true);
        var opened = Assert.Single(lines, r => r.Id.Id == CircuitOpenedEvent);
        Assert.Equal((LogLevel.Warning, "app", "d1"), (opened.Level, opened.GetStructuredStateValue("Cluster"), opened.GetStructuredStateValue("Destination")));
        Assert.Equal(LogLevel.Debug, Assert.Single(lines, r => r.Id.Id == CircuitOpenedAgainEvent).Level);
        Assert.DoesNotContain(lines, r => r.Id.Id == CircuitClosedEvent);

        CloseByProbe(breaker, destination);
        log.Summarize(Interval);
        var closed = Assert.Single(_logger.Collector.GetSnapshot(clear: true));
        Assert.Equal((CircuitClosedEvent, LogLevel.Information, "d1"), (closed.Id.Id, closed.Level, closed.GetStructuredStateValue("Destination")));

        log.Summarize(Interval);
        Assert.Equal(0, _logger.Collector.Count);
    }

    [Fact]
    public void Retain_RouteRemovedByAReload_SummarizedOnceMoreThenForgotten()
    {
        var log = Log();
        var removed = log.ForRoute("old", "app");
        removed.Retried("503");

        log.Retain(Config(routeName: "new"));
        log.Summarize(Interval);
        removed.Retried("503");
        log.Summarize(Interval);

        Assert.Equal(["old"], _logger.Collector.GetSnapshot().Select(r => r.GetStructuredStateValue("Route")));
        Assert.NotSame(removed, log.ForRoute("old", "app"));
    }

    [Fact]
    public void Retain_RouteKeptByAReload_KeepsItsCounts()
    {
        var log = Log();
        var kept = log.ForRoute("new", "app");
        kept.Retried("503");

        log.Retain(Config(routeName: "new"));
        log.Summarize(Interval);

        Assert.Same(kept, log.ForRoute("new", "app"));
        Assert.Equal("1", Assert.Single(_logger.Collector.GetSnapshot()).GetStructuredStateValue("Retries"));
    }

    private RetryLog Log(int maxRouteSummaries = LogConstants.MaxRouteSummaries) => new(_logger, _breakers, _time, maxRouteSummaries);

    private void Open(ClusterCircuitBreaker breaker, DestinationState destination, RouteLogCounters route)
    {
        for (var i = 0; i < breaker.Options.MinimumRequests; i++)
        {
            if (breaker.Record(destination, failure: true, probe: null))
            {
                route.Cluster.CircuitOpened(destination.DestinationId, breaker.Options.BreakDuration);
                return;
            }
        }

        Assert.Fail("the circuit did not open");
    }

    private void CloseByProbe(ClusterCircuitBreaker breaker, DestinationState destination)
    {
        _time.Advance(breaker.Options.BreakDuration);
        _ = breaker.Allowed([destination], out var probe);
        Assert.Same(destination, probe);
        breaker.Record(destination, failure: false, probe);
        Assert.True(breaker.IsClosed(destination.DestinationId));
    }

    private static ClusterOptions Cluster(double failureRatio) => new()
    {
        Name = "app",
        Destinations = ["http://127.0.0.1:1"],
        CircuitBreaker = new CircuitBreakerOptions { FailureRatio = failureRatio, MinimumRequests = 2 },
    };

    private static SidecarConfig Config(string routeName)
    {
        var result = SidecarConfigLoader.Parse($$"""
            clusters:
              app: { destinations: ["http://127.0.0.1:1"] }
            routes:
              - name: {{routeName}}
                cluster: app
            """, "test.yaml");
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        return result.Config!;
    }
}
