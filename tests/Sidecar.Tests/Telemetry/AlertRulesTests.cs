using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;
using Xunit.Abstractions;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// charts/sidecar/files/sidecar-rules.yaml, the one home of Sidecar's recording and alert rules: it passes
/// <c>promtool check rules</c> and its unit tests (<c>promtool test rules</c>), every alert carries what an on-call
/// engineer needs (severity, summary, description, a runbook that exists in README), the unit tests make every alert
/// both fire and stay quiet, and the thresholds have the shape the chart's override relies on.
/// </summary>
public sealed partial class AlertRulesTests
{
    private static readonly string[] Severities = ["critical", "warning"];

    private readonly ITestOutputHelper _output;

    public AlertRulesTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [ToolFact("promtool")]
    public async Task RulesFile_PromtoolCheckRules_Passes()
    {
        var promtool = ExternalTool.Require("promtool");

        var (exitCode, output) = await ToolProcess.RunAsync(promtool, RepositoryRoot.Combine(MonitoringFiles.Folder), "check", "rules", MonitoringFiles.RulesFileName);

        _output.WriteLine(output);
        Assert.True(exitCode == 0, $"promtool check rules failed ({exitCode}):\n{output}");
        Assert.Contains($"SUCCESS: {MonitoringFiles.Rules().Count} rules found", output, StringComparison.Ordinal);
    }

    [ToolFact("promtool")]
    public async Task RulesFile_PromtoolTestRules_Passes()
    {
        var promtool = ExternalTool.Require("promtool");

        var (exitCode, output) = await ToolProcess.RunAsync(promtool, RepositoryRoot.Combine(MonitoringFiles.Folder), "test", "rules", MonitoringFiles.RulesTestFileName);

        _output.WriteLine(output);
        Assert.True(exitCode == 0, $"promtool test rules failed ({exitCode}):\n{output}");
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Alerts_EachOne_HasSeveritySummaryDescriptionAndARunbookSectionInReadme()
    {
        var alerts = MonitoringFiles.Rules().Where(r => r.IsAlert).ToList();
        var anchors = ReadmeAnchors();

        Assert.True(alerts.Count >= 7, $"expected the alerts of the operations kit, found {alerts.Count}");
        var problems = new List<string>();
        foreach (var alert in alerts)
        {
            var labels = MonitoringFiles.Map(alert.Node, "labels");
            var annotations = MonitoringFiles.Map(alert.Node, "annotations");
            var severity = labels is null ? string.Empty : MonitoringFiles.Scalar(labels, "severity");
            if (!Severities.Contains(severity))
            {
                problems.Add($"{alert.Name}: severity '{severity}' is not one of {string.Join(", ", Severities)}");
            }

            foreach (var key in new[] { "summary", "description", "runbook_url" })
            {
                if (annotations is null || MonitoringFiles.Scalar(annotations, key).Trim().Length == 0)
                {
                    problems.Add($"{alert.Name}: no {key} annotation");
                }
            }

            var runbook = annotations is null ? string.Empty : MonitoringFiles.Scalar(annotations, "runbook_url");
            const string prefix = "README.md#";
            if (!runbook.StartsWith(prefix, StringComparison.Ordinal) || !anchors.Contains(runbook[prefix.Length..]))
            {
                problems.Add($"{alert.Name}: runbook_url '{runbook}' is no section of README.md");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void UnitTests_EveryAlert_FiresInOneCaseAndStaysQuietInAnother()
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(MonitoringFiles.RulesTestPath))
        {
            stream.Load(reader);
        }

        var firing = new HashSet<string>(StringComparer.Ordinal);
        var quiet = new HashSet<string>(StringComparer.Ordinal);
        foreach (var test in MonitoringFiles.Sequence((YamlMappingNode)stream.Documents[0].RootNode, "tests"))
        {
            foreach (var check in MonitoringFiles.Sequence(test, "alert_rule_test"))
            {
                var name = MonitoringFiles.Scalar(check, "alertname");
                (MonitoringFiles.Sequence(check, "exp_alerts").Any() ? firing : quiet).Add(name);
            }
        }

        var alerts = MonitoringFiles.Rules().Where(r => r.IsAlert).Select(r => r.Name).ToList();
        var neverFiring = alerts.Where(a => !firing.Contains(a)).ToList();
        var neverQuiet = alerts.Where(a => !quiet.Contains(a)).ToList();
        var unknown = firing.Concat(quiet).Where(a => !alerts.Contains(a)).ToList();
        Assert.True(neverFiring.Count == 0, $"no test makes these fire: {string.Join(", ", neverFiring)}");
        Assert.True(neverQuiet.Count == 0, $"no test keeps these quiet: {string.Join(", ", neverQuiet)}");
        Assert.True(unknown.Count == 0, $"tests of alerts the rules do not have: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Thresholds_EachOne_IsAConstantNamedSoTheChartCanOverrideIt()
    {
        var thresholds = MonitoringFiles.Rules().Where(r => r.Group == "sidecar-thresholds").ToList();
        var others = MonitoringFiles.Rules().Where(r => r.Group != "sidecar-thresholds").ToList();

        Assert.NotEmpty(thresholds);
        foreach (var threshold in thresholds)
        {
            Assert.False(threshold.IsAlert);
            Assert.Matches(ThresholdName(), threshold.Name);
            var value = ThresholdValue().Match(threshold.Expression.Trim());
            Assert.True(value.Success, $"{threshold.Name}: expr '{threshold.Expression}' is not vector(<number>)");
            Assert.True(double.TryParse(value.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            Assert.True(others.Any(r => r.Expression.Contains(threshold.Name, StringComparison.Ordinal)), $"{threshold.Name} is used by no rule");
        }
    }

    /// <summary>The anchors GitHub gives README's headings: lower case, punctuation dropped, spaces as hyphens.</summary>
    internal static HashSet<string> ReadmeAnchors()
    {
        var anchors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in RepositoryRoot.ReadAllText("README.md").Split('\n'))
        {
            var heading = Heading().Match(line.TrimEnd('\r'));
            if (!heading.Success)
            {
                continue;
            }

            var slug = new StringBuilder();
            foreach (var c in heading.Groups[1].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }

            anchors.Add(slug.ToString());
        }

        return anchors;
    }

    [GeneratedRegex(@"^#{1,6}\s+(.+)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^sidecar:[a-z0-9_]+:(threshold|objective)$")]
    private static partial Regex ThresholdName();

    [GeneratedRegex(@"^vector\(([-+0-9.eE]+)\)$")]
    private static partial Regex ThresholdValue();
}
