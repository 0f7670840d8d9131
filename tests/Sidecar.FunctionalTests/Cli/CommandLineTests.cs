using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Cli;

[Trait("Category", SidecarProcess.Category)]
public sealed class CommandLineTests
{
    private const int SigTerm = 15;

    [Fact]
    public async Task Run_BadConfig_ExitsNonZeroWithLocatedErrorsBeforeListening()
    {
        var path = await WriteTempAsync("""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [http://127.0.0.1:1] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
                policy: fast
            """);

        var (code, stdout, stderr) = await SidecarProcess.RunAsync("run", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains($"{path}:8:", stderr, StringComparison.Ordinal);
        Assert.Contains("policy: unknown policy 'fast'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("listening", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_DestinationWithCredentials_NeverPrintsThem()
    {
        var good = await WriteTempAsync("""
            clusters:
              orders: { destinations: ["http://svc:tok3n@orders:8080"] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: orders
            """);
        var bad = await WriteTempAsync("""
            clusters:
              orders: { destinations: ["http://svc:tok3n@orders:8080/?sig=tok3n"] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: orders
            """);

        var (goodCode, goodOut, goodErr) = await SidecarProcess.RunAsync("validate", "--config", good);
        var (badCode, badOut, badErr) = await SidecarProcess.RunAsync("validate", "--config", bad);

        Assert.Equal(0, goodCode);
        Assert.Contains("-> cluster orders (http://REDACTED@orders:8080)", goodOut, StringComparison.Ordinal);
        Assert.Equal(1, badCode);
        Assert.Contains("invalid destination 'http://REDACTED@orders:8080/?REDACTED'", badErr, StringComparison.Ordinal);
        Assert.DoesNotContain("tok3n", goodOut + goodErr + badOut + badErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_PrintsTheConfigSchemaThatRejectsUnknownKeys()
    {
        var (code, stdout, stderr) = await SidecarProcess.RunAsync("schema");

        Assert.True(code == 0, stderr);
        using var schema = System.Text.Json.JsonDocument.Parse(stdout);
        var root = schema.RootElement;
        Assert.Equal("http://json-schema.org/draft-07/schema#", root.GetProperty("$schema").GetString());
        Assert.False(root.GetProperty("additionalProperties").GetBoolean());
        Assert.True(root.GetProperty("properties").GetProperty("listen").GetProperty("properties").TryGetProperty("metrics", out _));
    }

    [Fact]
    public async Task Validate_GoodConfig_PrintsRoutesPoliciesAndDelaySchedule()
    {
        var path = await WriteTempAsync("""
            clusters:
              orders: { destinations: [http://orders:8080] }
            policies:
              default:
                max_attempts: 3
                backoff: { algorithm: exponential, base: 100ms, multiplier: 2, max: 1s, jitter: none }
            routes:
              - name: orders-read
                match: { path: "/orders/{**rest}", methods: [GET] }
                cluster: orders
                policy: default
              - name: orders-write
                match: { path: "/orders/{**rest}" }
                cluster: orders
            """);

        var (code, stdout, _) = await SidecarProcess.RunAsync("validate", "--config", path);

        Assert.Equal(0, code);
        Assert.Contains("route orders-read: GET /orders/{**rest} -> cluster orders", stdout, StringComparison.Ordinal);
        Assert.Contains("retry 1 (before attempt 2): delay 100ms .. 100ms", stdout, StringComparison.Ordinal);
        Assert.Contains("retry 2 (before attempt 3): delay 200ms .. 200ms", stdout, StringComparison.Ordinal);
        Assert.Contains("policy: none", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_BadConfig_ExitsOneWithEveryError()
    {
        var path = await WriteTempAsync("""
            clusters:
              app: { destinations: [not-a-url] }
            policies:
              p: { max_attempts: 0, backoff: { base: 2s, max: 1s } }
            routes:
              - name: r
                match: { path: "/x" }
                cluster: nope
            """);

        var (code, _, stderr) = await SidecarProcess.RunAsync("validate", "--config", path);

        Assert.Equal(1, code);
        Assert.Contains("clusters.app.destinations[0]", stderr, StringComparison.Ordinal);
        Assert.Contains("policies.p.max_attempts", stderr, StringComparison.Ordinal);
        Assert.Contains("unknown cluster 'nope'", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("proxy")]
    [InlineData("admin")]
    public async Task Run_PortTaken_PrintsOneCleanLineAndNoStackTrace(string taken)
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var proxy = taken == "proxy" ? $"http://127.0.0.1:{port}" : "http://127.0.0.1:0";
        var admin = taken == "admin" ? $"http://127.0.0.1:{port}" : "http://127.0.0.1:0";
        var path = await WriteTempAsync($$"""
            listen: { proxy: "{{proxy}}", admin: "{{admin}}" }
            clusters:
              app: { destinations: [http://127.0.0.1:1] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
            """);

        var (code, stdout, stderr) = await SidecarProcess.RunAsync("run", "--config", path);

        Assert.Equal(1, code);
        var all = stdout + "\n" + stderr;
        var line = Assert.Single(all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        Assert.StartsWith("sidecar: cannot listen: ", line, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Run_SigTerm_DrainsInFlightRequestAndExitsZero()
    {
        // Kestrel: the test must see the request reach the upstream while its answer is pending (WireMock records a
        // request only once its delay is over).
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await TestUpstream.StartAsync(async (context, _) =>
        {
            // Answers only once the test has seen the drain begin, so the request is surely in flight during it.
            await release.Task;
            await context.Response.WriteAsync("finished");
        });
        var path = await WriteTempAsync($$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: app
            limits: { drain_delay: 200ms, drain_timeout: 10s }
            """);
        using var sidecar = SidecarProcess.Start("run", "--config", path);
        var (proxy, admin) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
        using var client = new HttpClient { BaseAddress = proxy };
        using var adminClient = new HttpClient { BaseAddress = admin };
        Assert.Equal(HttpStatusCode.OK, (await adminClient.GetAsync("/readyz")).StatusCode);

        var inFlight = client.GetStringAsync("/slow");
        await Eventually.ReturnsAsync(() => Task.FromResult(upstream.Count), n => n == 1, TimeSpan.FromSeconds(5), "the request reaching the upstream");
        sidecar.Signal(SigTerm);
        var readyz = await Eventually.ReturnsAsync(async () => (await adminClient.GetAsync("/readyz")).StatusCode, s => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(5), "readyz turning unready");

        release.SetResult();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readyz);
        Assert.Equal("finished", await inFlight);
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
    }

    private static async Task<string> WriteTempAsync(string yaml)
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("sidecar-cli-").FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }
}
