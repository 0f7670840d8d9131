using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Sidecar.Configuration;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// charts/sidecar without a helm binary: Chart.yaml fields, values.yaml against values.schema.json,
/// values' sidecar.config through Sidecar's own config loader, and the native-sidecar shape of the templates.
/// </summary>
public sealed class HelmChartTests
{
    private const string SubPathKey = @"(?m)^\s*-?\s*subPath\s*:";

    private static readonly string[] ChartDir = ["charts", "sidecar"];

    [Fact]
    public void ChartYaml_Parsed_HasApiVersionV2NameVersionAndAppVersion()
    {
        var chart = (YamlMappingNode)LoadChartYaml("Chart.yaml");

        Assert.Equal("v2", Scalar(chart, "apiVersion"));
        Assert.Equal("sidecar", Scalar(chart, "name"));
        Assert.Matches(@"^\d+\.\d+\.\d+", Scalar(chart, "version"));
        Assert.False(string.IsNullOrWhiteSpace(Scalar(chart, "appVersion")));
        Assert.Equal("application", Scalar(chart, "type"));
    }

    [Fact]
    public void ChartYaml_KubeVersion_RequiresNativeSidecarSupport()
    {
        var chart = (YamlMappingNode)LoadChartYaml("Chart.yaml");

        Assert.Equal(">=1.29.0-0", Scalar(chart, "kubeVersion"));
    }

    [Fact]
    public void ValuesYaml_WithTheOutboundExample_IsValidAgainstValuesSchema()
    {
        var validator = LoadSchemaValidator();

        var errors = validator.Validate(YamlToJson.Convert(ValuesWithOutboundExample()));

        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public void ValuesYaml_Alone_IsRejectedUntilTheUserNamesClustersAndRoutes()
    {
        var validator = LoadSchemaValidator();

        var errors = validator.Validate(YamlToJson.Convert(LoadChartYaml("values.yaml")));

        Assert.Contains("$.sidecar.config: required property 'clusters' is missing", errors);
        Assert.Contains("$.sidecar.config: required property 'routes' is missing", errors);
    }

    [Fact]
    public void ValuesYaml_SidecarConfig_HasNoClusterPolicyOrRouteToMergeIntoTheUsers()
    {
        var config = SidecarConfigNode();

        // Helm deep-merges maps: a default cluster would stay in every user's config (and the old one, the app's own
        // port, looped the application's outbound calls back into it).
        Assert.Equal(["listen", "limits"], config.Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        Assert.Contains("# clusters:", ReadChartFile("values.yaml"), StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesSchema_MisspeltConfigKey_IsRejected()
    {
        var validator = LoadSchemaValidator();
        var values = ValuesWithOutboundExample();
        SidecarConfigNode(values).Children.Add("polices", new YamlMappingNode { { "x", "1" } });

        var errors = validator.Validate(YamlToJson.Convert(values));

        Assert.Contains("$.sidecar.config: additional property 'polices' is not allowed", errors);
    }

    [Fact]
    public void ValuesYaml_DrainDelay_IsZeroForANativeSidecar()
    {
        var limits = (YamlMappingNode)SidecarConfigNode().Children[new YamlScalarNode("limits")];

        // SIGTERM reaches a native sidecar only after the application exited: nobody is left to route away.
        Assert.Equal("0s", Scalar(limits, "drain_delay"));
    }

    [Fact]
    public void DrainSecondsTemplate_Fallbacks_AreSidecarsDefaults()
    {
        var helper = NamedTemplate("sidecar.drainSeconds");

        Assert.Contains($"($limits.drain_delay | default \"{DurationParser.Format(ConfigDefaults.DrainDelay)}\")", helper, StringComparison.Ordinal);
        Assert.Contains($"($limits.drain_timeout | default \"{DurationParser.Format(ConfigDefaults.DrainTimeout)}\")", helper, StringComparison.Ordinal);
    }

    [Fact]
    public void ValuesYaml_WithUnknownSidecarKey_IsRejectedBySchema()
    {
        var validator = LoadSchemaValidator();
        var values = ValuesWithOutboundExample();
        ((YamlMappingNode)values.Children[new YamlScalarNode("sidecar")]).Children.Add("imagee", "typo");

        var errors = validator.Validate(YamlToJson.Convert(values));

        Assert.Contains(errors, error => error.Contains("'imagee'", StringComparison.Ordinal));
    }

    [Fact]
    public void ValuesYaml_SidecarConfig_ListensOnLoopbackProxyAndAdminAndPodWideMetrics()
    {
        var config = SidecarConfigNode();
        var listen = (YamlMappingNode)config.Children[new YamlScalarNode("listen")];

        Assert.Equal("http://127.0.0.1:8080", Scalar(listen, "proxy"));
        Assert.Equal("http://127.0.0.1:9901", Scalar(listen, "admin"));
        Assert.Equal("http://0.0.0.0:9902", Scalar(listen, "metrics"));
    }

    [Fact]
    public void ValuesYaml_Sidecar_HasNoPortsBesideTheListenAddresses()
    {
        var values = (YamlMappingNode)LoadChartYaml("values.yaml");
        var sidecar = (YamlMappingNode)values.Children[new YamlScalarNode("sidecar")];

        // The ports are rendered from config.listen (one home): a second copy could disagree with what Sidecar binds.
        Assert.DoesNotContain(new YamlScalarNode("ports"), sidecar.Children.Keys);
        Assert.Contains(@"include ""sidecar.proxyPort""", NamedTemplate("sidecar.container"), StringComparison.Ordinal);
    }

    [Fact]
    public void OutboundExample_SidecarConfig_RoutesToClustersOtherThanTheApplication()
    {
        var config = SidecarConfigNode(ValuesWithOutboundExample());
        var clusters = (YamlMappingNode)config.Children[new YamlScalarNode("clusters")];
        var policies = (YamlMappingNode)config.Children[new YamlScalarNode("policies")];
        var routes = (YamlSequenceNode)config.Children[new YamlScalarNode("routes")];

        var route = Assert.IsType<YamlMappingNode>(routes.Children[0]);
        Assert.Contains(new YamlScalarNode(Scalar(route, "cluster")), clusters.Children.Keys);
        Assert.Contains(new YamlScalarNode(Scalar(route, "policy")), policies.Children.Keys);
        var destinations = clusters.Children.Values.Cast<YamlMappingNode>()
            .SelectMany(c => ((YamlSequenceNode)c.Children[new YamlScalarNode("destinations")]).Children)
            .Select(d => ((YamlScalarNode)d).Value!);
        Assert.DoesNotContain(destinations, d => d.Contains("127.0.0.1", StringComparison.Ordinal) || d.Contains("localhost", StringComparison.Ordinal));
    }

    [Fact]
    public void OutboundExample_SidecarConfig_LoadsWithSidecarConfigLoader()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sidecar-chart-values-{Guid.NewGuid():N}.yaml");
        try
        {
            using (var writer = new StreamWriter(path))
            {
                new YamlStream(new YamlDocument(SidecarConfigNode(ValuesWithOutboundExample()))).Save(writer, assignAnchors: false);
            }

            var result = SidecarConfigLoader.LoadFile(path);

            Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void DeploymentTemplate_SidecarContainer_IsNativeSidecarUnderInitContainers()
    {
        var deployment = ReadChartFile("templates", "deployment.yaml");
        var container = NamedTemplate("sidecar.container");

        Assert.Matches(@"initContainers:\s*\n\s*\{\{-\s*include ""sidecar\.container""", deployment);
        Assert.Matches(@"(?m)^- name: sidecar\s*$", container);
        Assert.Matches(@"(?m)^  restartPolicy: Always\s*$", container);
    }

    [Fact]
    public void DeploymentTemplate_ConfigVolume_IsMountedAsDirectoryWithoutSubPath()
    {
        var deployment = ReadChartFile("templates", "deployment.yaml");
        var container = NamedTemplate("sidecar.container");
        var volume = NamedTemplate("sidecar.volume");

        Assert.Matches(@"- name: sidecar-config\s*\n\s*mountPath: /etc/sidecar\s*\n", container);
        Assert.DoesNotMatch(SubPathKey, container);
        Assert.DoesNotMatch(SubPathKey, deployment);
        Assert.Matches(@"- name: sidecar-config\s*\n\s*configMap:", volume);
        Assert.Matches(@"volumes:\s*\n\s*\{\{-\s*include ""sidecar\.volume""", deployment);
    }

    [Fact]
    public void SidecarContainerTemplate_Probes_TargetMetricsPortHealthzAndReadyz()
    {
        var values = (YamlMappingNode)LoadChartYaml("values.yaml");
        var probes = (YamlMappingNode)((YamlMappingNode)values.Children[new YamlScalarNode("sidecar")]).Children[new YamlScalarNode("probes")];
        var container = NamedTemplate("sidecar.container");

        Assert.Equal("/healthz", Scalar((YamlMappingNode)probes.Children[new YamlScalarNode("liveness")], "path"));
        Assert.Equal("/readyz", Scalar((YamlMappingNode)probes.Children[new YamlScalarNode("readiness")], "path"));
        Assert.Contains("livenessProbe:", container, StringComparison.Ordinal);
        Assert.Contains("readinessProbe:", container, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(container, @"port: metrics\b"));
        Assert.DoesNotContain("sidecar-admin", container, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("debug", true)]
    [InlineData("", true)]
    [InlineData("verbose", false)]
    public void ValuesYaml_SidecarLogLevel_OnlyLevelNamesPassTheSchema(string level, bool valid)
    {
        var validator = LoadSchemaValidator();
        var values = ValuesWithOutboundExample();
        ((YamlMappingNode)values.Children[new YamlScalarNode("sidecar")]).Children[new YamlScalarNode("logLevel")] = new YamlScalarNode(level);

        var errors = validator.Validate(YamlToJson.Convert(values));

        Assert.Equal(valid, errors.Count == 0);
    }

    [Fact]
    public void SidecarContainerTemplate_LogLevel_RenderedAsSidecarLogLevelWhenSet()
    {
        var container = NamedTemplate("sidecar.container");

        Assert.Matches(@"\{\{- with \$v\.logLevel \}\}\s*- name: SIDECAR_LOG_LEVEL\s*value: \{\{ \. \| quote \}\}\s*\{\{- end \}\}", container);
    }

    [Fact]
    public void ValuesYaml_SidecarSecurityContext_IsLockedDown()
    {
        var values = (YamlMappingNode)LoadChartYaml("values.yaml");
        var context = (YamlMappingNode)((YamlMappingNode)values.Children[new YamlScalarNode("sidecar")]).Children[new YamlScalarNode("securityContext")];
        var capabilities = (YamlMappingNode)context.Children[new YamlScalarNode("capabilities")];

        Assert.Equal("true", Scalar(context, "runAsNonRoot"));
        Assert.Equal("true", Scalar(context, "readOnlyRootFilesystem"));
        Assert.Equal("false", Scalar(context, "allowPrivilegeEscalation"));
        Assert.Equal("ALL", Assert.IsType<YamlScalarNode>(Assert.Single(((YamlSequenceNode)capabilities.Children[new YamlScalarNode("drop")]).Children)).Value);
    }

    [Fact]
    public void DeploymentTemplate_PodAnnotations_HavePrometheusScrapeAndNoConfigChecksum()
    {
        var deployment = ReadChartFile("templates", "deployment.yaml");
        var annotations = NamedTemplate("sidecar.podAnnotations");

        Assert.Contains("include \"sidecar.podAnnotations\"", deployment, StringComparison.Ordinal);
        Assert.Contains("prometheus.io/scrape: \"true\"", annotations, StringComparison.Ordinal);
        Assert.Contains("prometheus.io/port:", annotations, StringComparison.Ordinal);
        Assert.Contains("prometheus.io/path: /metrics", annotations, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?m)^\s*checksum/config\s*:", deployment);
    }

    [Fact]
    public void ServiceMonitorTemplate_IsOptionalAndScrapesMetricsPort()
    {
        var monitor = ReadChartFile("templates", "servicemonitor.yaml");

        Assert.StartsWith("{{- if and .Values.workload.enabled .Values.service.enabled .Values.metrics.serviceMonitor.enabled }}", monitor, StringComparison.Ordinal);
        Assert.Contains("apiVersion: monitoring.coreos.com/v1", monitor, StringComparison.Ordinal);
        Assert.Contains("- port: metrics", monitor, StringComparison.Ordinal);
    }

    [Fact]
    public void ChartDirectory_RequiredFiles_Exist()
    {
        string[] files =
        [
            "Chart.yaml", "values.yaml", "values.schema.json", "README.md",
            "templates/_helpers.tpl", "templates/deployment.yaml", "templates/configmap.yaml",
            "templates/service.yaml", "templates/servicemonitor.yaml", "templates/NOTES.txt", "ci/outbound-values.yaml",
        ];

        Assert.All(files, file => Assert.True(File.Exists(RepositoryRoot.Combine([.. ChartDir, file])), file));
    }

    /// <summary>
    /// values.schema.json holds <c>sidecar schema</c>'s output under <c>sidecar.config</c> (less <c>$schema</c>, which
    /// a subschema does not repeat), so helm lint/template reject what Sidecar would reject at start.
    /// </summary>
    [Fact]
    public void ValuesSchema_SidecarConfig_IsTheOutputOfSidecarSchema()
    {
        const string Regenerate = "SIDECAR_UPDATE_CHART_SCHEMA";
        var expected = JsonNode.Parse(ConfigSchema.ToJson())!.AsObject();
        expected.Remove("$schema");
        var path = RepositoryRoot.Combine([.. ChartDir, "values.schema.json"]);
        var chartSchema = JsonNode.Parse(File.ReadAllText(path))!;
        var sidecarProperties = chartSchema["properties"]!["sidecar"]!["properties"]!.AsObject();
        if (Environment.GetEnvironmentVariable(Regenerate) == "1")
        {
            sidecarProperties["config"] = expected.DeepClone();
            var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
            File.WriteAllText(path, chartSchema.ToJsonString(options) + "\n");
        }

        Assert.True(
            JsonNode.DeepEquals(expected, sidecarProperties["config"]),
            $"charts/sidecar/values.schema.json: sidecar.config is not the output of `sidecar schema`. Regenerate it with {Regenerate}=1 dotnet test tests/Sidecar.Tests --filter FullyQualifiedName~{nameof(ValuesSchema_SidecarConfig_IsTheOutputOfSidecarSchema)}");
    }

    private static JsonSchemaSubsetValidator LoadSchemaValidator()
    {
        using var schema = JsonDocument.Parse(ReadChartFile("values.schema.json"));
        return new JsonSchemaSubsetValidator(schema.RootElement.Clone());
    }

    private static YamlMappingNode SidecarConfigNode(YamlMappingNode? values = null)
    {
        values ??= (YamlMappingNode)LoadChartYaml("values.yaml");
        var sidecar = (YamlMappingNode)values.Children[new YamlScalarNode("sidecar")];
        return (YamlMappingNode)sidecar.Children[new YamlScalarNode("config")];
    }

    /// <summary>values.yaml with ci/outbound-values.yaml merged in as Helm merges values files: maps key by key, the rest replaced.</summary>
    private static YamlMappingNode ValuesWithOutboundExample()
    {
        var values = (YamlMappingNode)LoadChartYaml("values.yaml");
        Merge(values, (YamlMappingNode)LoadChartYaml("ci", "outbound-values.yaml"));
        return values;
    }

    private static void Merge(YamlMappingNode into, YamlMappingNode from)
    {
        foreach (var (key, value) in from.Children)
        {
            if (value is YamlMappingNode map && into.Children.TryGetValue(key, out var existing) && existing is YamlMappingNode existingMap)
            {
                Merge(existingMap, map);
            }
            else
            {
                into.Children[key] = value;
            }
        }
    }

    private static YamlNode LoadChartYaml(params string[] file) => YamlToJson.LoadFile(RepositoryRoot.Combine([.. ChartDir, .. file]));

    private static string ReadChartFile(params string[] parts) => RepositoryRoot.ReadAllText([.. ChartDir, .. parts]);

    /// <summary>The body of <c>{{- define "name" -}}</c> … <c>{{- end }}</c> at column 0 in _helpers.tpl.</summary>
    private static string NamedTemplate(string name)
    {
        var helpers = ReadChartFile("templates", "_helpers.tpl").ReplaceLineEndings("\n");
        var match = Regex.Match(helpers, $@"\{{\{{- define ""{Regex.Escape(name)}"" -\}}\}}\n(?<body>.*?)\n\{{\{{- end \}}\}}\n", RegexOptions.Singleline);
        Assert.True(match.Success, $"define \"{name}\" not found in _helpers.tpl");
        return match.Groups["body"].Value;
    }

    private static string Scalar(YamlMappingNode mapping, string key) =>
        Assert.IsType<YamlScalarNode>(mapping.Children[new YamlScalarNode(key)]).Value ?? string.Empty;
}
