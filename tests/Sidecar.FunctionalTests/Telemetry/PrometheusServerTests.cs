using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sidecar.Configuration;
using Sidecar.FunctionalTests.TestSupport;
using Sidecar.Telemetry;
using WireMock.ResponseBuilders;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// A real Prometheus server scrapes a real Kestrel app serving Sidecar's metrics through the OpenTelemetry Prometheus
/// exporter as the admin port does, and the admin port of the real Sidecar after retried traffic.
/// </summary>
public sealed class PrometheusServerTests : IAsyncLifetime
{
    private static readonly TimeSpan QueryDeadline = TimeSpan.FromSeconds(30);

    private readonly ITestOutputHelper _output;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), $"sidecar-prometheus-{Guid.NewGuid():N}");
    private readonly StringBuilder _prometheusLog = new();
    private WebApplication? _app;
    private RunningSidecar? _sidecar;
    private ScriptedUpstream? _upstream;
    private Process? _prometheus;

    public PrometheusServerTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    [ToolFact("prometheus")]
    public async Task Scrape_RetriedMetrics_AppearInPrometheusQuery()
    {
        var binary = ExternalTool.Require("prometheus");

        var targetPort = await StartSidecarAppAsync();
        var metrics = _app!.Services.GetRequiredService<SidecarMetrics>();
        for (var i = 0; i < 7; i++)
        {
            metrics.Retried("orders-read", "503");
        }

        var prometheusPort = FreeLoopbackPort();
        StartPrometheus(binary, targetPort, prometheusPort);

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var retries = await WaitForSampleAsync(client, prometheusPort, "sidecar_retries_total", "7");
        Assert.Equal("orders-read", retries.GetProperty("metric").GetProperty("route").GetString());
        Assert.Equal("503", retries.GetProperty("metric").GetProperty("reason").GetString());

        // Alerts on reload failures must see 0, not "no data", before the first failure.
        var reloadFailures = await WaitForSampleAsync(client, prometheusPort, "sidecar_config_reloads_total{result=\"failure\"}", "0");
        Assert.Equal("failure", reloadFailures.GetProperty("metric").GetProperty("result").GetString());
    }

    [ToolFact("prometheus")]
    public async Task Scrape_RealSidecarAfterRetries_RetriesReadBackThroughQueryApi()
    {
        var binary = ExternalTool.Require("prometheus");

        // Odd requests fail: each request of the client is answered on its second attempt.
        _upstream = ScriptedUpstream.Cycle(Response.Create().WithStatusCode(503).WithBody("x"), Response.Create().WithBody("x"));
        _sidecar = await RunningSidecar.StartAsync($$"""
            clusters:
              app: { destinations: [{{_upstream.Url}}] }
            policies:
              p:
                max_attempts: 3
                backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
            routes:
              - name: orders-read
                match: { path: "/{**rest}" }
                cluster: app
                policy: p
            """);
        for (var i = 0; i < 4; i++)
        {
            using var response = await _sidecar.Proxy.GetAsync("/orders/" + i);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var prometheusPort = FreeLoopbackPort();
        StartPrometheus(binary, _sidecar.Admin.BaseAddress!.Port, prometheusPort);

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var retries = await WaitForSampleAsync(client, prometheusPort, "sidecar_retries_total", "4");
        Assert.Equal("orders-read", retries.GetProperty("metric").GetProperty("route").GetString());
        Assert.Equal("503", retries.GetProperty("metric").GetProperty("reason").GetString());
        Assert.Equal("sidecar", retries.GetProperty("metric").GetProperty("job").GetString());

        var afterRetry = await WaitForSampleAsync(client, prometheusPort, "sum by (route) (sidecar_requests_total{outcome=\"success_after_retry\"})", "4");
        Assert.Equal("orders-read", afterRetry.GetProperty("metric").GetProperty("route").GetString());

        // Prometheus asks for OpenMetrics, whose counters and histograms carry a _created sample: stored as series too.
        await WaitForSampleAsync(client, prometheusPort, "count(sidecar_retries_created)", "1");
    }

    public async Task DisposeAsync()
    {
        if (_prometheus is not null)
        {
            try
            {
                if (!_prometheus.HasExited)
                {
                    _prometheus.Kill(entireProcessTree: true);
                    await _prometheus.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }

            _prometheus.Dispose();
        }

        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        if (_sidecar is not null)
        {
            await _sidecar.DisposeAsync();
        }

        if (_upstream is not null)
        {
            _upstream.Dispose();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException)
        {
        }
    }

    private async Task<int> StartSidecarAppAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Services.AddSidecarTelemetry(builder.Configuration, new TelemetryOptions());
        _app = builder.Build();
        _app.MapPrometheusScrapingEndpoint("/metrics");
        await _app.StartAsync();

        var address = _app.Urls.Single();
        return new Uri(address).Port;
    }

    private void StartPrometheus(string binary, int targetPort, int listenPort)
    {
        Directory.CreateDirectory(_directory);
        var config = Path.Combine(_directory, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: sidecar
                static_configs:
                  - targets: ["127.0.0.1:{targetPort}"]
            """);

        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        startInfo.ArgumentList.Add($"--config.file={config}");
        startInfo.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(_directory, "data")}");
        startInfo.ArgumentList.Add($"--web.listen-address=127.0.0.1:{listenPort}");
        _prometheus = new Process { StartInfo = startInfo };
        _prometheus.OutputDataReceived += (_, e) => AppendLog(e.Data);
        _prometheus.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        _prometheus.Start();
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();
    }

    private async Task<JsonElement> WaitForSampleAsync(HttpClient client, int port, string query, string expectedValue)
    {
        var url = $"http://127.0.0.1:{port}/api/v1/query?query={Uri.EscapeDataString(query)}";
        var stopwatch = Stopwatch.StartNew();
        var last = "(no answer)";
        while (stopwatch.Elapsed < QueryDeadline)
        {
            if (_prometheus!.HasExited)
            {
                Assert.Fail($"prometheus exited with {_prometheus.ExitCode}:\n{Log()}");
            }

            try
            {
                last = await client.GetStringAsync(url);
                using var document = JsonDocument.Parse(last);
                foreach (var sample in document.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
                {
                    var value = sample.GetProperty("value")[1].GetString();
                    if (value == expectedValue)
                    {
                        _output.WriteLine($"{query} = {value} after {stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
                        return sample.Clone();
                    }
                }
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }
            catch (TaskCanceledException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"{query} did not reach {expectedValue} within {QueryDeadline}. Last answer: {last}\nprometheus log:\n{Log()}");
        return default;
    }

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_prometheusLog)
        {
            _prometheusLog.AppendLine(line);
        }
    }

    private string Log()
    {
        lock (_prometheusLog)
        {
            return _prometheusLog.ToString();
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
