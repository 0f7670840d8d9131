using System.Text.Json;
using YamlDotNet.RepresentationModel;
using Xunit.Abstractions;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// The chart's operations kit through a real helm: the PrometheusRule, PodMonitor and dashboard ConfigMap are off by
/// default; switched on they carry the repository's files/sidecar-rules.yaml and files/sidecar-dashboard.json as they
/// are (the rules file stays their one home), thresholds and the runbook address change only what they name, and
/// <c>helm lint --strict</c> passes with them on.
/// </summary>
public sealed class MonitoringRenderTests : IDisposable
{
    // The chart renders only with the upstreams a user names: its example outbound values stand in for them.
    private static readonly string[] Outbound = ["--values", RepositoryRoot.Combine("charts", "sidecar", "ci", "outbound-values.yaml")];

    private static readonly string[] AllOn =
    [
        "--set", "monitoring.prometheusRule.enabled=true",
        "--set", "monitoring.podMonitor.enabled=true",
        "--set", "monitoring.dashboard.enabled=true",
    ];

    private static readonly string[] MonitoringKinds = ["PrometheusRule", "PodMonitor"];

    private readonly ITestOutputHelper _output;
    private readonly string _directory = Directory.CreateTempSubdirectory("sidecar-helm-monitoring-").FullName;

    public MonitoringRenderTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [ToolFact("helm")]
    public async Task Template_Defaults_RenderNoMonitoringObjects()
    {
        var documents = await RenderAsync([]);

        Assert.DoesNotContain(documents, d => MonitoringKinds.Contains(Kind(d)));
        Assert.DoesNotContain(documents, d => Kind(d) == "ConfigMap" && Labels(d).ContainsKey("grafana_dashboard"));
    }

    [ToolFact("helm")]
    public async Task Lint_Strict_MonitoringOn_Passes()
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, output) = await RunHelmAsync(helm, ["lint", "--strict", RepositoryRoot.Combine("charts", "sidecar"), .. Outbound, .. AllOn]);

        Assert.True(exitCode == 0, $"helm lint --strict failed ({exitCode}):\n{output}");
    }

    [ToolFact("helm")]
    public async Task Template_PrometheusRuleOn_GroupsEqualTheRulesFile()
    {
        var documents = await RenderAsync([.. AllOn, "--set", "monitoring.prometheusRule.labels.release=kube-prometheus-stack"]);

        var rule = Assert.Single(documents, d => Kind(d) == "PrometheusRule");
        Assert.Equal("monitoring.coreos.com/v1", Scalar(rule, "apiVersion"));
        Assert.Equal("kube-prometheus-stack", Labels(rule)["release"]);
        var rendered = YamlToJson.Convert(Map(rule, "spec").Children[new YamlScalarNode("groups")]);
        var file = YamlToJson.Convert(((YamlMappingNode)YamlToJson.LoadFile(MonitoringFiles.RulesPath)).Children[new YamlScalarNode("groups")]);

        Assert.True(JsonElement.DeepEquals(file, rendered), $"the PrometheusRule's groups differ from {MonitoringFiles.RulesFileName}:\n{rendered}");
    }

    [ToolFact("helm")]
    public async Task Template_ThresholdAndRunbookUrl_ChangeOnlyWhatTheyName()
    {
        const string url = "https://git.example/sidecar/README.md";
        var documents = await RenderAsync(
        [
            "--set", "monitoring.prometheusRule.enabled=true",
            "--set", "monitoring.prometheusRule.thresholds.retry_storm_amplification=2",
            "--set-json", "monitoring.prometheusRule.thresholds.slo_availability=0.995",
            "--set", "monitoring.prometheusRule.runbookUrl=" + url,
        ]);

        var rule = Assert.Single(documents, d => Kind(d) == "PrometheusRule");
        var rendered = YamlToJson.Convert(Map(rule, "spec").Children[new YamlScalarNode("groups")]);

        // The file with the three changes made by hand.
        var file = (YamlMappingNode)YamlToJson.LoadFile(MonitoringFiles.RulesPath);
        var expected = new List<string>();
        foreach (var group in MonitoringFiles.Sequence(file, "groups"))
        {
            foreach (var one in MonitoringFiles.Sequence(group, "rules"))
            {
                var record = MonitoringFiles.Scalar(one, "record");
                if (record == "sidecar:retry_storm_amplification:threshold")
                {
                    one.Children[new YamlScalarNode("expr")] = new YamlScalarNode("vector(2)");
                }
                else if (record == "sidecar:slo_availability:objective")
                {
                    one.Children[new YamlScalarNode("expr")] = new YamlScalarNode("vector(0.995)");
                }

                var annotations = MonitoringFiles.Map(one, "annotations");
                if (annotations is not null)
                {
                    var runbook = MonitoringFiles.Scalar(annotations, "runbook_url");
                    annotations.Children[new YamlScalarNode("runbook_url")] = new YamlScalarNode(url + runbook["README.md".Length..]);
                    expected.Add(url + runbook["README.md".Length..]);
                }
            }
        }

        Assert.True(
            JsonElement.DeepEquals(YamlToJson.Convert(file.Children[new YamlScalarNode("groups")]), rendered),
            $"expected the file with the storm threshold 2, the objective 0.995 and runbooks at {url}; rendered:\n{rendered}");
        Assert.All(expected, u => Assert.StartsWith(url + "#sidecar", u, StringComparison.Ordinal));
    }

    [ToolFact("helm")]
    public async Task Template_UnknownThreshold_FailsNamingTheKnownOnes()
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, output) = await RunHelmAsync(helm, ["template", "ci", RepositoryRoot.Combine("charts", "sidecar"), .. Outbound,
            "--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.prometheusRule.thresholds.retry_storm=2"]);

        Assert.True(exitCode != 0, $"helm template accepted an unknown threshold:\n{output}");
        Assert.Contains("monitoring.prometheusRule.thresholds.retry_storm: no such threshold", output, StringComparison.Ordinal);
        Assert.Contains("retry_storm_amplification", output, StringComparison.Ordinal);
    }

    [ToolFact("helm")]
    public async Task Template_PodMonitorOn_ScrapesTheMetricsPortOfTheWorkloadsPods()
    {
        var documents = await RenderAsync(AllOn);

        var monitor = Assert.Single(documents, d => Kind(d) == "PodMonitor");
        var deployment = Assert.Single(documents, d => Kind(d) == "Deployment");
        var podLabels = Map(Map(Map(Map(deployment, "spec"), "template"), "metadata"), "labels").Children
            .ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value!);
        var selector = Map(Map(Map(monitor, "spec"), "selector"), "matchLabels").Children;

        Assert.NotEmpty(selector);
        Assert.All(selector, p => Assert.Equal(podLabels[((YamlScalarNode)p.Key).Value!], ((YamlScalarNode)p.Value).Value));
        var endpoint = (YamlMappingNode)Assert.Single(((YamlSequenceNode)Map(monitor, "spec").Children[new YamlScalarNode("podMetricsEndpoints")]).Children);
        Assert.Equal("metrics", Scalar(endpoint, "port"));
        Assert.Equal("/metrics", Scalar(endpoint, "path"));
    }

    [ToolFact("helm")]
    public async Task Template_PodMonitorSelector_ReplacesTheWorkloadsLabels()
    {
        var documents = await RenderAsync(["--set", "workload.enabled=false", "--set", "monitoring.podMonitor.enabled=true", "--set", "monitoring.podMonitor.selector.app=orders"]);

        var monitor = Assert.Single(documents, d => Kind(d) == "PodMonitor");
        var selector = Assert.Single(Map(Map(Map(monitor, "spec"), "selector"), "matchLabels").Children);
        Assert.Equal("app", ((YamlScalarNode)selector.Key).Value);
        Assert.Equal("orders", ((YamlScalarNode)selector.Value).Value);
    }

    [ToolFact("helm")]
    public async Task Template_DashboardOn_ConfigMapHoldsTheDashboardFileLabelledForGrafana()
    {
        var documents = await RenderAsync(AllOn);

        var configMap = Assert.Single(documents, d => Kind(d) == "ConfigMap" && Labels(d).ContainsKey("grafana_dashboard"));
        Assert.Equal("1", Labels(configMap)["grafana_dashboard"]);
        var json = Scalar(Map(configMap, "data"), MonitoringFiles.DashboardFileName);
        using var rendered = JsonDocument.Parse(json);
        using var file = JsonDocument.Parse(await File.ReadAllTextAsync(MonitoringFiles.DashboardPath));
        Assert.True(JsonElement.DeepEquals(file.RootElement, rendered.RootElement), "the ConfigMap's dashboard differs from the file");
    }

    private async Task<List<YamlMappingNode>> RenderAsync(string[] overrides)
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, rendered) = await RunHelmAsync(helm, ["template", "ci", RepositoryRoot.Combine("charts", "sidecar"), .. Outbound, .. overrides]);
        Assert.True(exitCode == 0, $"helm template failed ({exitCode}):\n{rendered}");
        var stream = new YamlStream();
        stream.Load(new StringReader(rendered));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    // helm keeps caches and config under HOME; a fresh folder keeps runs apart and leaves the user's alone.
    private Task<(int ExitCode, string Output)> RunHelmAsync(string helm, string[] arguments) =>
        ToolProcess.RunAsync(helm, _directory, new Dictionary<string, string>
        {
            ["HELM_CACHE_HOME"] = Path.Combine(_directory, ".cache"),
            ["HELM_CONFIG_HOME"] = Path.Combine(_directory, ".config"),
            ["HELM_DATA_HOME"] = Path.Combine(_directory, ".data"),
        }, arguments);

    private static string Kind(YamlMappingNode document) => Scalar(document, "kind");

    private static Dictionary<string, string> Labels(YamlMappingNode document) =>
        MonitoringFiles.Map(Map(document, "metadata"), "labels")?.Children
            .ToDictionary(p => ((YamlScalarNode)p.Key).Value!, p => ((YamlScalarNode)p.Value).Value ?? string.Empty)
        ?? [];

    private static YamlMappingNode Map(YamlMappingNode node, string key) =>
        Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlMappingNode node, string key) => MonitoringFiles.Scalar(node, key);
}
