using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// The README's PromQL examples are what users paste into dashboards and alerts: every one parses (<c>promtool check
/// rules</c>), and the error-ratio SLO query gives the right number on series shaped like Sidecar's
/// (<c>promtool test rules</c>, which evaluates on synthetic series without a server or a wait).
/// </summary>
public sealed class ReadmeQueryTests
{
    private const string ErrorRatioComment = "# error ratio by route";

    private readonly ITestOutputHelper _output;

    public ReadmeQueryTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [ToolFact("promtool")]
    public async Task ReadmeQueries_Parsed_PassPromtoolCheckRules()
    {
        var promtool = ExternalTool.Require("promtool");

        var queries = Queries();
        Assert.True(queries.Count >= 5, $"expected the README's PromQL block, found {queries.Count} queries");
        using var directory = new TempDirectory();
        var rules = directory.Write("rules.yml", RulesFile(queries.Select(q => q.Expression)));

        var (exitCode, output) = await RunAsync(promtool, directory.Path, "check", "rules", rules);

        Assert.True(exitCode == 0, $"promtool check rules failed ({exitCode}):\n{output}");
    }

    [ToolFact("promtool")]
    public async Task ReadmeErrorRatioQuery_OnSidecarShapedSeries_CountsOnly5xxOverRequestsNotAbandoned()
    {
        var promtool = ExternalTool.Require("promtool");

        var query = Queries().Single(q => q.Comment.StartsWith(ErrorRatioComment, StringComparison.Ordinal)).Expression;
        using var directory = new TempDirectory();
        directory.Write("rules.yml", RulesFile([query]));
        // Per minute on route a: 15 answered 2xx, 3 answered 4xx (not errors), 2 answered 5xx by Sidecar itself
        // (circuit open), 3 a 5xx Sidecar passed on, 7 callers that left: (2 + 3) / (15 + 3 + 2 + 3) ≈ 0.217.
        // Route b never failed: 0, not "no data".
        var test = directory.Write("test.yml", """
            rule_files: [rules.yml]
            evaluation_interval: 1m
            tests:
              - interval: 1m
                input_series:
                  - series: 'sidecar_requests_total{route="a",policy="p",method="GET",outcome="success",status_class="2xx"}'
                    values: '0+15x20'
                  - series: 'sidecar_requests_total{route="a",policy="p",method="GET",outcome="success",status_class="4xx"}'
                    values: '0+3x20'
                  - series: 'sidecar_requests_total{route="a",policy="p",method="GET",outcome="circuit_open",status_class="5xx"}'
                    values: '0+2x20'
                  - series: 'sidecar_requests_total{route="a",policy="p",method="POST",outcome="not_retryable",status_class="5xx"}'
                    values: '0+3x20'
                  - series: 'sidecar_requests_total{route="a",policy="p",method="GET",outcome="client_cancelled",status_class="none"}'
                    values: '0+7x20'
                  - series: 'sidecar_requests_total{route="b",policy="none",method="GET",outcome="success",status_class="2xx"}'
                    values: '0+10x20'
                promql_expr_test:
                  - expr: round(readme:query_1, 0.001)
                    eval_time: 15m
                    exp_samples:
                      - labels: '{route="a"}'
                        value: 0.217
                      - labels: '{route="b"}'
                        value: 0
            """);

        var (exitCode, output) = await RunAsync(promtool, directory.Path, "test", "rules", test);

        Assert.True(exitCode == 0, $"promtool test rules failed ({exitCode}):\n{output}\n--- query ---\n{query}");
    }

    /// <summary>The queries of the README's <c>promql</c> block: comment lines, then the query (continuation lines are indented).</summary>
    private static List<(string Comment, string Expression)> Queries()
    {
        var readme = RepositoryRoot.ReadAllText("README.md").Replace("\r\n", "\n", StringComparison.Ordinal);
        var start = readme.IndexOf("```promql\n", StringComparison.Ordinal);
        Assert.True(start >= 0, "README has no ```promql block");
        var end = readme.IndexOf("```", start + 10, StringComparison.Ordinal);
        var queries = new List<(string, string)>();
        var comment = string.Empty;
        var previousWasComment = false;
        StringBuilder? expression = null;
        foreach (var line in readme[(start + 10)..end].Split('\n'))
        {
            if (line.StartsWith(' ') && expression is not null)
            {
                expression.Append('\n').Append(line.Trim());
                continue;
            }

            if (expression is not null)
            {
                queries.Add((comment, expression.ToString()));
                expression = null;
            }

            if (line.StartsWith('#'))
            {
                // A comment may run over several lines: they all belong to the query below them.
                comment = previousWasComment ? comment + "\n" + line : line;
                previousWasComment = true;
                continue;
            }

            previousWasComment = false;
            if (line.Length == 0)
            {
                continue;
            }

            expression = new StringBuilder(line);
        }

        if (expression is not null)
        {
            queries.Add((comment, expression.ToString()));
        }

        return queries;
    }

    private static string RulesFile(IEnumerable<string> expressions)
    {
        var rules = new StringBuilder("groups:\n  - name: readme\n    rules:\n");
        var n = 0;
        foreach (var expression in expressions)
        {
            rules.Append("      - record: readme:query_").Append(++n).Append("\n        expr: |\n");
            foreach (var line in expression.Split('\n'))
            {
                rules.Append("          ").Append(line).Append('\n');
            }
        }

        return rules.ToString();
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string fileName, string workingDirectory, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private sealed class TempDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sidecar-promql-").FullName;

        public string Write(string name, string content)
        {
            var file = System.IO.Path.Combine(Path, name);
            File.WriteAllText(file, content);
            return file;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
