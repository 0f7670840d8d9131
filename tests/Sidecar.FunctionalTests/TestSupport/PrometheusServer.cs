using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A real <c>prometheus</c> on 127.0.0.1 scraping one target every second (rule files evaluated every second too),
/// with its data in a temp folder, and its HTTP query API. The process and the folder go on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    /// <summary>How long a wait for a query's answer may take before the test fails with the last answer and the log.</summary>
    public static readonly TimeSpan QueryDeadline = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly string _directory;
    private readonly ITestOutputHelper _output;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _client = new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private PrometheusServer(Process process, string directory, int port, ITestOutputHelper output)
    {
        _process = process;
        _directory = directory;
        _output = output;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Starts <paramref name="binary"/> scraping <c>127.0.0.1:<paramref name="targetPort"/>/metrics</c> as job <c>sidecar</c>.</summary>
    /// <param name="binary">The prometheus executable.</param>
    /// <param name="targetPort">The port serving <c>/metrics</c>.</param>
    /// <param name="output">The test's output, for what the waits saw.</param>
    /// <param name="ruleFiles">Rule files to copy beside the config and load.</param>
    public static PrometheusServer Start(string binary, int targetPort, ITestOutputHelper output, params string[] ruleFiles)
    {
        var directory = Directory.CreateTempSubdirectory("sidecar-prometheus-").FullName;
        var rules = new StringBuilder();
        foreach (var file in ruleFiles)
        {
            File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
            rules.Append("\n  - ").Append(Path.GetFileName(file));
        }

        var config = Path.Combine(directory, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:{(ruleFiles.Length == 0 ? " []" : rules.ToString())}
            scrape_configs:
              - job_name: sidecar
                static_configs:
                  - targets: ["127.0.0.1:{targetPort}"]
            """);

        var port = FreePort.Get();
        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        startInfo.ArgumentList.Add($"--config.file={config}");
        startInfo.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(directory, "data")}");
        startInfo.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        var process = new Process { StartInfo = startInfo };
        var server = new PrometheusServer(process, directory, port, output);
        process.OutputDataReceived += (_, e) => server.AppendLog(e.Data);
        process.ErrorDataReceived += (_, e) => server.AppendLog(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Evaluates <paramref name="query"/> now through <c>/api/v1/query</c>: its status, error and result series.</summary>
    public async Task<QueryAnswer> QueryAsync(string query)
    {
        var url = $"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(query)}";
        using var response = await _client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            // Starting up (TSDB not open yet): 503 with a plain-text body.
            return new QueryAnswer($"http {(int)response.StatusCode}", body, []);
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var status = root.GetProperty("status").GetString()!;
        if (status != "success")
        {
            return new QueryAnswer(status, root.TryGetProperty("error", out var error) ? error.GetString() : body, []);
        }

        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        var series = data.GetProperty("resultType").GetString() switch
        {
            "vector" => result.EnumerateArray().Select(s => new Sample(Labels(s), s.GetProperty("value")[1].GetString()!)).ToArray(),
            "scalar" => [new Sample(new Dictionary<string, string>(), result[1].GetString()!)],
            _ => throw new NotSupportedException(body),
        };
        return new QueryAnswer(status, null, series);
    }

    /// <summary>Polls <paramref name="query"/> until its answer satisfies <paramref name="done"/>, failing after <see cref="QueryDeadline"/>.</summary>
    public async Task<QueryAnswer> WaitForAsync(string query, Func<QueryAnswer, bool> done, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        var last = "(no answer)";
        while (stopwatch.Elapsed < QueryDeadline)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"prometheus exited with {_process.ExitCode}:\n{Log()}");
            }

            try
            {
                var answer = await QueryAsync(query);
                if (done(answer))
                {
                    _output.WriteLine($"{what}: after {stopwatch.Elapsed.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s");
                    return answer;
                }

                last = answer.ToString();
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

        Assert.Fail($"{what}: {query} not there within {QueryDeadline}. Last answer: {last}\nprometheus log:\n{Log()}");
        return default!;
    }

    /// <summary>Waits until <paramref name="query"/> has a series whose value is <paramref name="expectedValue"/>, and returns it.</summary>
    public async Task<Sample> WaitForSampleAsync(string query, string expectedValue)
    {
        var answer = await WaitForAsync(query, a => a.Series.Any(s => s.Value == expectedValue), $"{query} = {expectedValue}");
        return answer.Series.First(s => s.Value == expectedValue);
    }

    public string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        _client.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static Dictionary<string, string> Labels(JsonElement sample) =>
        sample.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);

    private void AppendLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    /// <summary>One series of an answer: its labels and its value as Prometheus writes it.</summary>
    public sealed record Sample(IReadOnlyDictionary<string, string> Labels, string Value)
    {
        public double Number => double.Parse(Value, NumberStyles.Float, CultureInfo.InvariantCulture);

        public override string ToString() =>
            "{" + string.Join(", ", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "} " + Value;
    }

    /// <summary>The answer to an instant query: <c>success</c> with its series, or the error.</summary>
    public sealed record QueryAnswer(string Status, string? Error, IReadOnlyList<Sample> Series)
    {
        public bool Succeeded => Status == "success";

        public override string ToString() => Succeeded ? $"[{string.Join("; ", Series)}]" : $"{Status}: {Error}";
    }
}
