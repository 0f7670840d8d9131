using System.Text.Json;
using Sidecar.Demo;

namespace Sidecar.Tests.Demo;

/// <summary><c>sidecar demo --json</c>: the shape <c>sidecar simulate --json</c> prints, keyed by the demo's route names.</summary>
public sealed class DemoReportJsonTests
{
    [Fact]
    public void Json_TwoColumns_RouteSummariesKeyedByRouteName()
    {
        var with = DemoColumn.From(
            [new DemoSample(true, 200, 1, TimeSpan.FromMilliseconds(2)), new DemoSample(true, 200, 2, TimeSpan.FromMilliseconds(60)), new DemoSample(true, 503, 1, TimeSpan.FromMilliseconds(1))],
            upstreamRequests: 4,
            upstreamSuccesses: 2,
            maxAttempts: 3);
        var without = DemoColumn.From([new DemoSample(false, 503, 1, TimeSpan.FromMilliseconds(1))], 1, 0, 3);

        using var json = JsonDocument.Parse(DemoReport.Json(new DemoResult(new DemoOptions(), TimeSpan.FromSeconds(1), with, without, Interrupted: false)));

        var route = json.RootElement.GetProperty(DemoPolicy.WithRetriesRoute);
        Assert.Equal(["caller_success", "upstream_requests_per_call", "latency_p50_ms", "latency_p99_ms", "attempts", "budget_refused"], route.EnumerateObject().Select(p => p.Name));
        Assert.Equal(0.6667, route.GetProperty("caller_success").GetDouble());
        Assert.Equal(1.3333, route.GetProperty("upstream_requests_per_call").GetDouble());
        Assert.Equal(2, route.GetProperty("latency_p50_ms").GetDouble());
        Assert.Equal(2, route.GetProperty("attempts").GetProperty("1").GetInt64());
        Assert.Equal(1, route.GetProperty("budget_refused").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty(DemoPolicy.WithoutRetriesRoute).GetProperty("budget_refused").GetInt64());
    }
}
