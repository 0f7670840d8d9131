using System.Reflection;
using System.Text.RegularExpressions;
using Sidecar.Http;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

/// <summary>
/// The README's metrics table is what users write queries and alerts against: every value a label can take in code
/// (the label mappings and constants the call sites use) is listed in the table, and the table lists nothing the code cannot emit.
/// </summary>
public sealed partial class MetricLabelValuesTests
{
    public static TheoryData<string, string, string[]> LabelValueSets => new()
    {
        { "sidecar_requests_total", "outcome", [.. RequestOutcomes.All] },
        { "sidecar_requests_total", "status_class", [.. StatusClass.All, StatusClass.None] },
        { "sidecar_requests_total", "grpc_status", [.. Enumerable.Range(0, Sidecar.Grpc.GrpcStatus.Count).Select(Sidecar.Grpc.GrpcStatus.Label)] },
        { "sidecar_upstream_attempts_total", "result", [.. AttemptResults.All] },
        { "sidecar_retries_total", "reason", Constants(typeof(RetryReason)) },
        { "sidecar_retries_skipped_total", "reason", [.. RetrySkipReasons.All] },
        { "sidecar_config_reloads_total", "result", Constants(typeof(MetricValues)) },
        { "sidecar_tls_reloads_total", "result", Constants(typeof(MetricValues)) },
        { "sidecar_tls_certificate_expiry_timestamp_seconds", "kind", [.. CertificateKinds.All] },
        { "sidecar_overload_shed_total", "action", [.. Sidecar.Overload.OverloadActions.All] },
    };

    [Theory]
    [MemberData(nameof(LabelValueSets))]
    public void ReadmeMetricsTable_LabelValues_AreExactlyTheValuesTheCodeEmits(string metric, string label, string[] emitted)
    {
        var documented = DocumentedValues(metric, label);

        Assert.True(
            documented.SetEquals(emitted),
            $"README's {metric} {label} values [{string.Join(", ", documented.Order(StringComparer.Ordinal))}] " +
            $"differ from the code's [{string.Join(", ", emitted.Order(StringComparer.Ordinal))}]");
    }

    [Fact]
    public void ReadmeMetricsTable_RequestsTotal_ListsStatusClassAmongItsLabels()
    {
        var row = Row("sidecar_requests_total");

        Assert.Contains(MetricTags.StatusClass, row[2].Split(',', StringSplitOptions.TrimEntries));
        Assert.Contains(MetricTags.Outcome, row[2].Split(',', StringSplitOptions.TrimEntries));
    }

    /// <summary>The backticked values after <c>label:</c> in the row's meaning cell, up to the next <c>;</c>.</summary>
    private static HashSet<string> DocumentedValues(string metric, string label)
    {
        var meaning = Row(metric)[3];
        foreach (var segment in meaning.Split(';', StringSplitOptions.TrimEntries))
        {
            if (segment.StartsWith(label + ":", StringComparison.Ordinal))
            {
                return Backticked().Matches(segment).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
            }
        }

        Assert.Fail($"README's {metric} row does not list its '{label}' values: {meaning}");
        return [];
    }

    /// <summary>The cells of the metrics-table row of <paramref name="metric"/>: name, type, labels, meaning.</summary>
    private static string[] Row(string metric)
    {
        var prefix = $"| `{metric}` |";
        var line = RepositoryRoot.ReadAllText("README.md").Split('\n').SingleOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, $"README has no metrics-table row for {metric}");
        return line.Trim().Trim('|').Split('|', StringSplitOptions.TrimEntries);
    }

    private static string[] Constants(Type type) =>
        [.. type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .Distinct(StringComparer.Ordinal)];

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
