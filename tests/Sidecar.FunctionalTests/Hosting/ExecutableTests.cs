using System.Net;
using System.Text;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Hosting;

/// <summary>
/// The features a trimmed Native AOT build could lose (YAML binding, JSON writing, the metrics listener, body replay,
/// the demo's in-process upstream), through the real executable. tests/packaging/check.sh runs this class with
/// <c>SIDECAR_TEST_EXECUTABLE</c> pointing at the published native binary.
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class ExecutableTests
{
    private readonly ITestOutputHelper _output;

    public ExecutableTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [ToolFact("promtool")]
    public async Task Run_RetriedGetAndReplayedPost_AnsweredAndReportedOnTheAdminPort()
    {
        // The requests below come one at a time, each answered 503 first and then with its method (by WireMock's
        // response templating); the upstream records the bodies.
        using var upstream = ScriptedUpstream.Cycle(Response.Create().WithStatusCode(503), Response.Create().WithBody("{{request.method}}").WithTransformer());
        var directory = Directory.CreateTempSubdirectory("sidecar-exe-");
        var config = Path.Combine(directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            policies:
              p:
                max_attempts: 3
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            routes:
              - name: api
                match: { path: "/api/{**rest}" }
                cluster: app
                policy: p
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        string metrics;
        try
        {
            using var sidecar = SidecarProcess.Start("run", "--config", config);
            var (proxyAddress, adminAddress) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            using var proxy = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxyAddress, Timeout = TimeSpan.FromSeconds(10) };
            using var admin = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = adminAddress, Timeout = TimeSpan.FromSeconds(10) };

            using (var get = await proxy.GetAsync("/api/orders"))
            {
                Assert.Equal(HttpStatusCode.OK, get.StatusCode);
                Assert.Equal("GET", await get.Content.ReadAsStringAsync());
                Assert.Equal("2", get.Headers.GetValues("x-sidecar-attempts").Single());
            }

            using (var post = new HttpRequestMessage(HttpMethod.Post, "/api/payments") { Content = new StringContent("pay 10", Encoding.UTF8) })
            {
                post.Headers.Add("Idempotency-Key", "k-1");
                using var response = await proxy.SendAsync(post);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal("POST", await response.Content.ReadAsStringAsync());
                Assert.Equal("2", response.Headers.GetValues("x-sidecar-attempts").Single());
            }

            // The retry replayed the buffered body.
            Assert.Equal(["pay 10", "pay 10"], upstream.Snapshot().Where(r => r.Method == "POST").Select(r => Encoding.UTF8.GetString(r.Body)));

            using (var unmatched = await proxy.GetAsync("/elsewhere"))
            {
                Assert.Equal(HttpStatusCode.NotFound, unmatched.StatusCode);
                Assert.Equal("application/problem+json", unmatched.Content.Headers.ContentType?.MediaType);
                using var problem = JsonDocument.Parse(await unmatched.Content.ReadAsStringAsync());
                Assert.Equal(404, problem.RootElement.GetProperty("status").GetInt32());
            }

            Assert.Equal("ready\n", await admin.GetStringAsync("/readyz"));
            using (var effective = JsonDocument.Parse(await admin.GetStringAsync("/config")))
            {
                Assert.Contains("\"api\"", effective.RootElement.GetRawText(), StringComparison.Ordinal);
            }

            metrics = await Eventually.ReturnsAsync(
                () => admin.GetStringAsync("/metrics"),
                text => PrometheusText.Value(text, "sidecar_retries_total", "route=api", "reason=503") == 2,
                TimeSpan.FromSeconds(10),
                "two retries counted for route api");
            Assert.Equal(1, PrometheusText.Value(metrics, "sidecar_requests_total", "route=api", "method=POST", "outcome=success_after_retry"));

            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var (exitCode, output) = await Promtool.CheckMetricsAsync(ExternalTool.Require("promtool"), metrics);
        Assert.True(exitCode == 0, $"promtool check metrics failed ({exitCode}):\n{output}");
    }

    [Fact]
    public async Task Run_FreshHomeInADeepWorkingDirectory_WritesNoKeyAndWatchesNoDirectory()
    {
        // Starting writes no ASP.NET Core Data Protection key under $HOME (YARP registers Data Protection for session
        // affinity, which Sidecar never uses; every fresh pod logged a warning and wrote a key file), and watches no
        // directory under the working directory (the host's appsettings.json reload, which made the time to ready
        // depend on that tree).
        var home = Directory.CreateTempSubdirectory("sidecar-home-");
        var workingDirectory = Directory.CreateTempSubdirectory("sidecar-cwd-");
        for (var i = 0; i < 20; i++)
        {
            Directory.CreateDirectory(Path.Combine(workingDirectory.FullName, $"d{i}", "sub"));
        }

        var config = Path.Combine(home.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(config, """
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: ["http://127.0.0.1:9"] }
            routes:
              - { name: all, cluster: app }
            limits: { drain_delay: 0s, drain_timeout: 1s }
            """);
        try
        {
            using var sidecar = SidecarProcess.StartIn(workingDirectory.FullName, new Dictionary<string, string> { ["HOME"] = home.FullName }, "run", "--config", config);
            await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));

            Assert.Empty(Directory.EnumerateFiles(home.FullName, "*.xml", SearchOption.AllDirectories));
            Assert.DoesNotContain(sidecar.Output.Concat(sidecar.Errors), line => line.Contains("DataProtection", StringComparison.Ordinal));
            Assert.Equal(0, InotifyWatches(sidecar.Id));

            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            home.Delete(recursive: true);
            workingDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Demo_TwoSeconds_PrintsTheComparisonAndExitsZero()
    {
        var (exitCode, stdout, stderr) = await SidecarProcess.RunAsync("demo", "--duration", "2s");

        Assert.True(exitCode == 0, stderr);
        Assert.Contains("with retries", stdout, StringComparison.Ordinal);
        Assert.Contains("attempts per request", stdout, StringComparison.Ordinal);
    }

    /// <summary>The inotify watches a process holds: one "inotify wd:" line per watch in its inotify fds' fdinfo.</summary>
    private static int InotifyWatches(int pid)
    {
        var watches = 0;
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fdinfo"))
        {
            try
            {
                watches += File.ReadLines(fd).Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
            }
            catch (IOException)
            {
                // The descriptor was closed while we looked.
            }
        }

        return watches;
    }
}
