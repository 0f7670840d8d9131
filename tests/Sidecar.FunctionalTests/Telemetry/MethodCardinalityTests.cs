using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// The HTTP method is the caller's to choose, so it must not become a metric label or span name as sent: requests with
/// made-up methods are still proxied, but telemetry sees a known method (upper case) or <c>_OTHER</c>.
/// </summary>
public sealed partial class MethodCardinalityTests
{
    [Fact]
    public async Task Telemetry_RandomMethods_BoundedLabelsAndSpanNames()
    {
        var methodsSeen = new ConcurrentQueue<string>();
        await using var upstream = RawUpstream.Start(async (_, connection) =>
        {
            var head = (await connection.ReadRequestAsync()).Head;
            methodsSeen.Enqueue(head[..head.IndexOf(' ', StringComparison.Ordinal)]);
            await connection.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
        });
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p: { max_attempts: 2, retry_on: { status: [503] } }
            routes:
              - name: cardinality-policy
                match: { path: "/p/{**rest}" }
                cluster: app
                policy: p
              - name: cardinality-plain
                match: { path: "/n/{**rest}" }
                cluster: app
            """);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Sidecar" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        const int PerRoute = 30;
        var hostile = new List<string>();
        foreach (var prefix in new[] { "/p/", "/n/" })
        {
            for (var i = 0; i < PerRoute; i++)
            {
                var method = "HOSTILE" + RandomToken(200);
                hostile.Add(method);
                var response = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"{method} {prefix}x HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");
                Assert.Equal(200, response.Status);
            }

            foreach (var method in new[] { "GET", "get", "Patch" })
            {
                var response = await RawHttp.ExchangeAsync(sidecar.ProxyAddress, $"{method} {prefix}x HTTP/1.1\r\nHost: sidecar\r\nConnection: close\r\n\r\n");
                Assert.Equal(200, response.Status);
            }
        }

        // Still a proxy: the upstream got every method as the caller sent it.
        Assert.Equal(hostile.Count + 6, methodsSeen.Count);
        Assert.Subset(methodsSeen.ToHashSet(), hostile.ToHashSet());

        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        foreach (var route in new[] { "cardinality-policy", "cardinality-plain" })
        {
            Assert.Equal(PerRoute, PrometheusText.Value(metrics, "sidecar_requests_total", "route=" + route, "method=_OTHER"));
            Assert.Equal(2, PrometheusText.Value(metrics, "sidecar_requests_total", "route=" + route, "method=GET"));
            Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_requests_total", "route=" + route, "method=PATCH"));
        }

        Assert.DoesNotContain("HOSTILE", metrics, StringComparison.Ordinal);
        var labels = MethodLabel().Matches(metrics).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Subset(new HashSet<string> { "GET", "PATCH", "_OTHER" }, labels);

        var ours = spans.Where(s => s.GetTagItem("sidecar.route") is "cardinality-policy" or "cardinality-plain" && s.Kind == ActivityKind.Server).ToArray();
        Assert.Equal(2 * (PerRoute + 3), ours.Length);
        Assert.Equal(2 * PerRoute, ours.Count(s => s.GetTagItem("http.request.method") as string == "_OTHER" && s.DisplayName == "HTTP " + s.GetTagItem("sidecar.route")));
        Assert.Equal(4, ours.Count(s => s.GetTagItem("http.request.method") as string == "GET" && s.DisplayName == "GET " + s.GetTagItem("sidecar.route")));
        // No span of any source, ours or ASP.NET Core's, carries the method as sent.
        Assert.DoesNotContain(spans, s => s.DisplayName.Contains("HOSTILE", StringComparison.Ordinal)
            || s.TagObjects.Any(t => t.Value is string value && value.Contains("HOSTILE", StringComparison.Ordinal)));
    }

    private static string RandomToken(int length)
    {
        const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~";
        return string.Create(length, 0, static (chars, _) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[Random.Shared.Next(Alphabet.Length)];
            }
        });
    }

    [GeneratedRegex(@"sidecar_requests_total\{[^}]*method=""([^""]*)""")]
    private static partial Regex MethodLabel();
}
