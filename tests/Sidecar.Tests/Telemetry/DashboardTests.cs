using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// charts/sidecar/files/sidecar-dashboard.json as Grafana imports it: the data source and the namespace, pod, route
/// and cluster filters are template variables, every query goes to the chosen data source, parses as PromQL once
/// Grafana has filled its variables in (<c>promtool check rules</c>), filters by the variables, and reads only series
/// that Sidecar exports or that sidecar-rules.yaml records. (PrometheusDashboardTests runs them on a real Prometheus.)
/// </summary>
public sealed partial class DashboardTests
{
    private readonly ITestOutputHelper _output;

    public DashboardTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void Templating_DatasourceAndFilters_AreVariablesWithAnAllOfDotStar()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(MonitoringFiles.DashboardPath));
        var variables = dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .ToDictionary(v => v.GetProperty("name").GetString()!, v => v.Clone());

        Assert.Equal("datasource", variables["datasource"].GetProperty("type").GetString());
        Assert.Equal("prometheus", variables["datasource"].GetProperty("query").GetString());
        foreach (var name in MonitoringFiles.FilterVariables)
        {
            Assert.True(variables.TryGetValue(name, out var variable), $"no template variable {name}");
            Assert.Equal("query", variable.GetProperty("type").GetString());
            Assert.True(variable.GetProperty("includeAll").GetBoolean());
            Assert.Equal(".*", variable.GetProperty("allValue").GetString());
            Assert.Equal("${datasource}", variable.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.Contains($", {name})", variable.GetProperty("definition").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Queries_Each_UseTheDatasourceVariableAndFilterByNamespaceAndPod()
    {
        var queries = MonitoringFiles.DashboardQueries();

        Assert.True(queries.Count >= 20, $"expected the dashboard's panels, found {queries.Count} queries");
        foreach (var query in queries)
        {
            Assert.Equal("${datasource}", query.DatasourceUid);
            // Thresholds recorded by the rules are constants without labels; every other series is filtered.
            if (!query.Expression.StartsWith("sidecar:", StringComparison.Ordinal))
            {
                Assert.Contains("namespace=~\"$namespace\"", query.Expression, StringComparison.Ordinal);
            }

            if (query.Expression.Contains("sidecar_", StringComparison.Ordinal) && !query.Expression.Contains("ALERTS", StringComparison.Ordinal))
            {
                Assert.Contains("pod=~\"$pod\"", query.Expression, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Queries_Each_ReadsSeriesSidecarExportsOrTheRulesRecord()
    {
        var recorded = MonitoringFiles.Rules().Where(r => !r.IsAlert).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
        var readme = RepositoryRoot.ReadAllText("README.md");

        foreach (var query in MonitoringFiles.DashboardQueries())
        {
            foreach (Match name in SeriesName().Matches(query.Expression))
            {
                var series = name.Value;
                if (series.Contains(':', StringComparison.Ordinal))
                {
                    Assert.True(recorded.Contains(series), $"{query.Panel}: {series} is recorded by no rule of sidecar-rules.yaml");
                    continue;
                }

                // sidecar_x_bucket / _sum / _count are the histogram sidecar_x of README's metrics table.
                var family = HistogramSuffix().Replace(series, string.Empty);
                Assert.True(readme.Contains($"`{family}`", StringComparison.Ordinal), $"{query.Panel}: {series} is no metric of README's table");
            }
        }
    }

    [ToolFact("promtool")]
    public async Task Queries_WithVariablesFilledIn_PassPromtoolCheckRules()
    {
        var promtool = ExternalTool.Require("promtool");

        var queries = MonitoringFiles.DashboardQueries();
        var directory = Directory.CreateTempSubdirectory("sidecar-dashboard-");
        try
        {
            var rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
            for (var i = 0; i < queries.Count; i++)
            {
                var expression = MonitoringFiles.Substitute(queries[i].Expression, "1m", "1h");
                Assert.DoesNotContain("$", expression, StringComparison.Ordinal);
                rules.Append("      - record: dashboard:query_").Append(i + 1).Append('\n')
                    .Append("        expr: '").Append(expression.Replace("'", "''", StringComparison.Ordinal)).Append("'\n");
            }

            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "dashboard.yml"), rules.ToString());
            var (exitCode, output) = await ToolProcess.RunAsync(promtool, directory.FullName, "check", "rules", "dashboard.yml");

            _output.WriteLine(output);
            Assert.True(exitCode == 0, $"promtool check rules failed ({exitCode}):\n{output}\n{rules}");
            Assert.Contains($"SUCCESS: {queries.Count} rules found", output, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Metric names in a query: <c>sidecar_...</c> families and <c>level:sidecar...:op</c> recorded series.</summary>
    [GeneratedRegex(@"(?<![A-Za-z0-9_:])(?:[a-z_]+:sidecar[a-z0-9_]*:[a-z0-9_]+|sidecar:[a-z0-9_]+:[a-z0-9_]+|sidecar_[a-z0-9_]+)")]
    private static partial Regex SeriesName();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();
}
