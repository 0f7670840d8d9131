using System.Text.Json;
using YamlDotNet.RepresentationModel;

namespace Sidecar.TestSupport;

/// <summary>
/// The operations kit of charts/sidecar/files: the Prometheus rules (<c>sidecar-rules.yaml</c>), their promtool unit
/// tests, and the Grafana dashboard (<c>sidecar-dashboard.json</c>), read as the chart and Grafana read them.
/// </summary>
internal static class MonitoringFiles
{
    public static readonly string[] Folder = ["charts", "sidecar", "files"];

    public const string RulesFileName = "sidecar-rules.yaml";

    public const string RulesTestFileName = "sidecar-rules.test.yaml";

    public const string DashboardFileName = "sidecar-dashboard.json";

    /// <summary>The dashboard's template variables that filter series; with "All" Grafana puts their allValue <c>.*</c> in.</summary>
    public static readonly string[] FilterVariables = ["namespace", "pod", "route", "cluster"];

    public static string RulesPath => RepositoryRoot.Combine([.. Folder, RulesFileName]);

    public static string RulesTestPath => RepositoryRoot.Combine([.. Folder, RulesTestFileName]);

    public static string DashboardPath => RepositoryRoot.Combine([.. Folder, DashboardFileName]);

    /// <summary>Every rule of the rules file: its group, its name (the record or the alert), its expression and the rule node.</summary>
    public static IReadOnlyList<Rule> Rules()
    {
        var rules = new List<Rule>();
        foreach (var group in Sequence(LoadYaml(RulesPath), "groups"))
        {
            var groupName = Scalar(group, "name");
            foreach (var rule in Sequence(group, "rules"))
            {
                var alert = Scalar(rule, "alert");
                rules.Add(new Rule(groupName, alert.Length > 0 ? alert : Scalar(rule, "record"), Scalar(rule, "expr"), alert.Length > 0, rule));
            }
        }

        return rules;
    }

    /// <summary>Every query of the dashboard: the panel's title and the expression as written (variables unsubstituted).</summary>
    public static IReadOnlyList<DashboardQuery> DashboardQueries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var queries = new List<DashboardQuery>();
        Collect(dashboard.RootElement.GetProperty("panels"), queries);
        return queries;

        static void Collect(JsonElement panels, List<DashboardQuery> queries)
        {
            foreach (var panel in panels.EnumerateArray())
            {
                if (panel.TryGetProperty("panels", out var nested))
                {
                    Collect(nested, queries);
                }

                if (!panel.TryGetProperty("targets", out var targets))
                {
                    continue;
                }

                foreach (var target in targets.EnumerateArray())
                {
                    queries.Add(new DashboardQuery(
                        panel.GetProperty("title").GetString()!,
                        target.GetProperty("expr").GetString()!,
                        target.GetProperty("datasource").GetProperty("uid").GetString()!));
                }
            }
        }
    }

    /// <summary>
    /// <paramref name="expression"/> as Grafana sends it with every filter variable on "All": the filters become
    /// <c>.*</c>, <c>$__rate_interval</c> and <c>$__range</c> the given durations (PromQL durations such as <c>30s</c>).
    /// </summary>
    public static string Substitute(string expression, string rateInterval, string range)
    {
        var result = expression
            .Replace("$__rate_interval", rateInterval, StringComparison.Ordinal)
            .Replace("$__range", range, StringComparison.Ordinal);
        foreach (var variable in FilterVariables)
        {
            result = result.Replace("$" + variable, ".*", StringComparison.Ordinal);
        }

        return result;
    }

    private static YamlMappingNode LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static IEnumerable<YamlMappingNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence
            ? sequence.Children.Cast<YamlMappingNode>()
            : [];

    public static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value ?? string.Empty : string.Empty;

    public static YamlMappingNode? Map(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value as YamlMappingNode : null;

    /// <summary>A recording or alert rule.</summary>
    internal sealed record Rule(string Group, string Name, string Expression, bool IsAlert, YamlMappingNode Node);

    /// <summary>One target of a dashboard panel.</summary>
    internal sealed record DashboardQuery(string Panel, string Expression, string DatasourceUid);
}
