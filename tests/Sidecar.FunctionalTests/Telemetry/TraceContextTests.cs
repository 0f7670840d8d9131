using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// Without an OTLP endpoint the real <c>sidecar</c> process traces nothing: it neither invents a trace context for the
/// upstream nor drops the caller's. (A separate process, because other tests in this one start trace listeners.)
/// </summary>
[Trait("Category", SidecarProcess.Category)]
public sealed class TraceContextTests
{
    private const string CallerTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public async Task SidecarProcess_TracingOff_ForwardsTheCallersTraceContextAndInventsNone()
    {
        using var upstream = ScriptedUpstream.Status(200);
        var directory = Directory.CreateTempSubdirectory("sidecar-trace-");
        var config = Path.Combine(directory.FullName, "sidecar.yaml");
        await File.WriteAllTextAsync(config, $$"""
            listen: { proxy: "http://127.0.0.1:0", admin: "http://127.0.0.1:0" }
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            routes:
              - name: all
                cluster: app
            limits: { drain_delay: 0s, drain_timeout: 5s }
            """);
        try
        {
            using var sidecar = SidecarProcess.Start("run", "--config", config);
            var (proxy, _) = await sidecar.WaitUntilListeningAsync(TimeSpan.FromSeconds(20));
            using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(10) };

            using (var plain = await client.GetAsync("/plain"))
            {
                Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
            }

            using (var traced = new HttpRequestMessage(HttpMethod.Get, "/traced"))
            {
                traced.Headers.TryAddWithoutValidation("traceparent", CallerTraceparent);
                using var response = await client.SendAsync(traced);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            sidecar.Signal(15);
            Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            directory.Delete(recursive: true);
        }

        var requests = upstream.Snapshot();
        Assert.Null(requests.Single(r => r.PathAndQuery == "/plain").Header("traceparent"));
        Assert.Equal(CallerTraceparent, requests.Single(r => r.PathAndQuery == "/traced").Header("traceparent"));
    }
}
