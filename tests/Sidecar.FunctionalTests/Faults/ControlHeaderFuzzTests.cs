using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Sidecar.FunctionalTests.TestSupport;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Faults;

/// <summary>
/// Ten thousand requests with random control headers (and random server-directed delays from the upstream) against a
/// real Sidecar: every one gets a clean HTTP answer, caller control headers never reach the upstream, and nothing is
/// logged as a bug.
/// </summary>
public sealed class ControlHeaderFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 424_242;
    private const int Requests = 10_000;
    private const int Concurrency = 16;

    private static readonly string[] Paths = ["/open/f", "/strict/f", "/plain/f"];

    private static readonly string[] Interesting =
    [
        "0", "1", "-1", "+1", "00", "2147483647", "2147483648", "-2147483648", "9223372036854775807", "9223372036854775808",
        "99999999999999999999999", "1e3", "0x10", "1.5", " 5", "5 ", "", ",", "1,2", "NaN", "Infinity", "\t7\t",
        "1H", "1M", "1S", "1m", "1u", "1n", "99999999H", "123456789S", "0S", "-5m", "5", "S", "Mon, 01 Jan 2024 00:00:00 GMT",
    ];

    [Fact]
    public async Task Proxy_RandomControlHeaders_AlwaysCleanResponse()
    {
        // Kestrel: each answer depends on the request's fuzzed headers, copied verbatim (WireMock would need its
        // templating, which interprets them).
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            // The caller asks, via test-only headers, for a retryable first answer carrying its chosen delay headers.
            var headers = context.Request.Headers;
            if (headers["x-sidecar-attempt"] == "1" && headers.TryGetValue("x-fuzz-retry-after", out var retryAfter))
            {
                context.Response.StatusCode = 503;
                context.Response.Headers.RetryAfter = retryAfter;
                if (headers.TryGetValue("x-fuzz-pushback", out var pushback))
                {
                    context.Response.Headers["x-sidecar-retry-pushback-ms"] = pushback;
                }

                await context.Response.WriteAsync("busy");
                return;
            }

            await context.Response.WriteAsync("ok");
        });
        await using var sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              open:
                max_attempts: 3
                backoff: { algorithm: exponential, base: 1ms, max: 4ms, jitter: full }
                retry_on: { status: [503], errors: [connect-failure, reset, per-try-timeout] }
                retry_after: { honor: true, max: 5ms }
                per_try_timeout: 2s
                timeout: 5s
                budget: off
                allow_overrides: true
              strict:
                max_attempts: 2
                backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
                retry_on: { status: [503] }
                retry_after: { honor: true, max: 5ms }
                timeout: 5s
                budget: off
            routes:
              - name: open
                match: { path: "/open/{**rest}" }
                cluster: app
                policy: open
              - name: strict
                match: { path: "/strict/{**rest}" }
                cluster: app
                policy: strict
              - name: plain
                match: { path: "/plain/{**rest}" }
                cluster: app
            """);
        var random = new Random(Seed);
        var cases = new List<HttpRequestMessage>(Requests);
        for (var i = 0; i < Requests; i++)
        {
            cases.Add(RandomRequest(random));
        }

        var failures = new ConcurrentQueue<string>();
        var statuses = new ConcurrentDictionary<int, int>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = Concurrency }, async (request, cancellationToken) =>
        {
            var described = Describe(request);
            try
            {
                using var response = await sidecar.Proxy.SendAsync(request, cancellationToken);
                var body = await response.Content.ReadAsStringAsync(cancellationToken);
                statuses.AddOrUpdate((int)response.StatusCode, 1, (_, n) => n + 1);
                var code = (int)response.StatusCode;
                var clean = (code == 200 && body == "ok")
                    || (code == 503 && body == "busy")
                    || (code is >= 400 and < 600 and not 500 && response.Content.Headers.ContentType?.MediaType == "application/problem+json");
                if (!clean)
                {
                    failures.Enqueue($"{code} '{body}' for {described}");
                }
            }
            catch (HttpRequestException ex)
            {
                // The whole chain: "error while sending" alone does not say whether the connection was reset, closed
                // early or timed out, which is what tells a proxy bug from a loaded machine.
                failures.Enqueue($"{ex.Message} ({ex.InnerException?.GetType().Name}: {ex.InnerException?.Message} / {ex.InnerException?.InnerException?.Message}) for {described}");
            }
            finally
            {
                request.Dispose();
            }
        });

        output.WriteLine($"{Requests} requests; statuses: {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}x{s.Value}"))}");
        Assert.True(failures.IsEmpty, $"{failures.Count} unclean responses, e.g.:\n" + string.Join('\n', failures.Take(10)));
        var leaked = upstream.Snapshot().Where(r => r.Header("x-sidecar-timeout-ms") is not null || r.Header("x-sidecar-max-attempts") is not null || r.Header("x-sidecar-fuzz") is not null).ToList();
        Assert.True(leaked.Count == 0, $"{leaked.Count} upstream requests carried caller control headers");
        Assert.InRange(statuses.GetValueOrDefault(200), Requests / 2, Requests);
        sidecar.Logs.AssertNoBugs();
    }

    private static HttpRequestMessage RandomRequest(Random random)
    {
        var request = new HttpRequestMessage(random.Next(4) == 0 ? HttpMethod.Post : HttpMethod.Get, Paths[random.Next(Paths.Length)]);
        if (request.Method == HttpMethod.Post)
        {
            request.Content = new ByteArrayContent([(byte)'x']);
        }

        if (random.Next(2) == 0)
        {
            Add(request, "x-sidecar-timeout-ms", random.Next(3) == 0 ? random.Next(1, 50).ToString(CultureInfo.InvariantCulture) : Value(random));
        }

        if (random.Next(2) == 0)
        {
            Add(request, "x-sidecar-max-attempts", Value(random));
        }

        if (random.Next(3) == 0)
        {
            Add(request, "grpc-timeout", Value(random));
        }

        if (random.Next(3) == 0)
        {
            Add(request, "Idempotency-Key", Value(random));
        }

        if (random.Next(4) == 0)
        {
            Add(request, "x-sidecar-fuzz", Value(random));
        }

        if (random.Next(4) == 0)
        {
            Add(request, "x-fuzz-retry-after", Value(random));
            if (random.Next(2) == 0)
            {
                Add(request, "x-fuzz-pushback", Value(random));
            }
        }

        return request;
    }

    private static void Add(HttpRequestMessage request, string name, string value)
    {
        if (!request.Headers.TryAddWithoutValidation(name, value))
        {
            throw new InvalidOperationException($"cannot send {name}: '{value}'");
        }
    }

    /// <summary>An interesting value, or random bytes from the header value charset (visible ASCII, space, tab).</summary>
    private static string Value(Random random)
    {
        if (random.Next(2) == 0)
        {
            return Interesting[random.Next(Interesting.Length)];
        }

        var length = random.Next(1, 24);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            var pick = random.Next(100);
            builder.Append(pick switch
            {
                < 40 => (char)('0' + random.Next(10)),
                < 45 => ' ',
                < 47 => '\t',
                _ => (char)random.Next(0x21, 0x7F),
            });
        }

        // A value may not start or end with whitespace on the wire (RFC 9110 §5.5); Kestrel would trim it anyway.
        return builder.ToString().Trim(' ', '\t') is { Length: > 0 } trimmed ? trimmed : "0";
    }

    private static string Describe(HttpRequestMessage request) =>
        request.Method + " " + request.RequestUri + " " + string.Join("; ", request.Headers.Select(h => h.Key + ": " + string.Join(",", h.Value)));
}
