using System.Diagnostics;
using System.Text.RegularExpressions;
using Sidecar.Cli;
using Sidecar.Configuration;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// charts/sidecar through a real helm (v4; .ci/run installs it): <c>helm lint --strict</c>, and <c>helm template</c>
/// with the outbound example (ci/outbound-values.yaml: the chart has no default upstream) and realistic overrides,
/// every rendered sidecar.yaml through <c>sidecar validate</c> (<see cref="ValidateCommand"/>) and the pod's ports,
/// probes, grace period and SIDECAR_PROXY_URL against its config. Overrides that deep-merge into a config Sidecar
/// rejects, or into a pod that cannot work, fail the render with a message naming the keys.
/// </summary>
public sealed partial class HelmRenderTests : IDisposable
{

    /// <summary>A values file as a team adds a second upstream: two clusters, a write policy, a route without policy.</summary>
    private const string TwoUpstreamsValues = """
        sidecar:
          config:
            clusters:
              payments:
                destinations: ["http://payments-0.payments:8080", "http://payments-1.payments:8080"]
                circuit_breaker: { failure_ratio: 0.5, minimum_requests: 20, window: 30s, break_duration: 10s }
              audit:
                destinations: ["http://audit:8080"]
            policies:
              writes:
                max_attempts: 2
                retry_on: { status: [503], errors: [connect-failure] }
                timeout: 5s
                per_try_timeout: 1s
            routes:
              - name: payments
                match: { path: "/payments/{**rest}", methods: [POST] }
                cluster: payments
                policy: writes
              - name: audit
                match: { path: "/audit/{**rest}" }
                cluster: audit
              - name: orders
                match: { path: "/orders/{**rest}" }
                cluster: orders
                policy: default
            limits: { max_buffered_bytes: 16MiB, drain_delay: 3s, drain_timeout: 20s }
        """;

    private readonly ITestOutputHelper _output;
    private readonly string _directory = Directory.CreateTempSubdirectory("sidecar-helm-").FullName;

    public HelmRenderTests(ITestOutputHelper output)
    {
        _output = output;
    }

    public static TheoryData<string, string[]> GoodOverrides => new()
    {
        { "defaults", [] },
        { "both timeouts", ["--set", "sidecar.config.policies.default.timeout=1s", "--set", "sidecar.config.policies.default.per_try_timeout=500ms"] },
        { "proxy on another port", ["--set", "sidecar.config.listen.proxy=http://127.0.0.1:9000"] },
        { "admin on another loopback port", ["--set", "sidecar.config.listen.admin=http://127.0.0.1:9911"] },
        { "metrics on another port", ["--set", "sidecar.config.listen.metrics=http://0.0.0.0:9100"] },
        { "metrics on IPv6", ["--set", "sidecar.config.listen.metrics=http://[::]:9902", "--set", "sidecar.config.listen.admin=http://[::1]:9901", "--set", "sidecar.config.listen.proxy=http://[::1]:8080"] },
        { "longer drain, derived grace period", ["--set", "sidecar.config.limits.drain_timeout=1m", "--set", "sidecar.config.limits.drain_delay=2.5s"] },
        { "explicit grace period", ["--set", "terminationGracePeriodSeconds=90"] },
        { "drain defaults of Sidecar", ["--set", "sidecar.config.limits=null"] },
        { "slower backoff", ["--set", "sidecar.config.policies.default.backoff.base=200ms", "--set", "sidecar.config.policies.default.backoff.max=5s"] },
        { "two upstreams values file", ["--values", "two-upstreams.yaml"] },
        { "service monitor, names, replicas", ["--set", "metrics.serviceMonitor.enabled=true", "--set", "fullnameOverride=orders", "--set", "workload.replicas=3"] },
    };

    public static TheoryData<string, string[], string> BrokenOverrides => new()
    {
        {
            "timeout below the default per-try timeout",
            ["--set", "sidecar.config.policies.default.timeout=1s"],
            "policies.default: per_try_timeout (2s) must not exceed timeout (1s)"
        },
        {
            "backoff base above the default max",
            ["--set", "sidecar.config.policies.default.backoff.base=2s"],
            "policies.default.backoff: max (1s) must be at least base (2s)"
        },
        {
            "global buffer below the default buffer_limit",
            ["--set", "sidecar.config.limits.max_buffered_bytes=32KiB"],
            "policies.default: buffer_limit (64KiB) must not exceed limits.max_buffered_bytes (32KiB)"
        },
        {
            "metrics on loopback",
            ["--set", "sidecar.config.listen.metrics=http://127.0.0.1:9902"],
            "listen.metrics (http://127.0.0.1:9902) binds 127.0.0.1 only"
        },
        {
            "metrics on an ephemeral port",
            ["--set", "sidecar.config.listen.metrics=http://0.0.0.0:0"],
            "listen.metrics (http://0.0.0.0:0) needs a fixed port"
        },
        {
            "no metrics listener",
            ["--set", "sidecar.config.listen.metrics=null"],
            "listen.metrics is required by the chart"
        },
        {
            "admin on an ephemeral port",
            ["--set", "sidecar.config.listen.admin=http://127.0.0.1:0"],
            "listen.admin (http://127.0.0.1:0) needs a fixed port"
        },
        {
            "grace period shorter than the drain",
            ["--set", "sidecar.config.limits.drain_timeout=60s", "--set", "terminationGracePeriodSeconds=35"],
            "terminationGracePeriodSeconds (35) is shorter than Sidecar's drain, limits.drain_delay (0s) + limits.drain_timeout (60s) = 60s"
        },
        {
            "misspelt config key",
            ["--set", "sidecar.config.polices.x=1"],
            "at '/sidecar/config': additional properties 'polices' not allowed"
        },
        {
            "duration without a unit",
            ["--set", "sidecar.config.policies.default.timeout=2000"],
            "at '/sidecar/config/policies/default/timeout'"
        },
        {
            "proxy on an address the app cannot reach on loopback",
            ["--set", "sidecar.config.listen.proxy=http://10.1.2.3:8080"],
            "listen.proxy (http://10.1.2.3:8080) binds 10.1.2.3"
        },
        {
            "the removed ports values",
            ["--set", "sidecar.ports.proxy=9000"],
            "ports"
        },
    };

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [ToolFact("helm")]
    public async Task Lint_Strict_Passes()
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, output) = await RunAsync(helm, "lint", "--strict", RepositoryRoot.Combine("charts", "sidecar"), "--values", OutboundValues);

        Assert.True(exitCode == 0, $"helm lint --strict failed ({exitCode}):\n{output}");
    }

    [ToolFact("helm")]
    public async Task Template_NoClustersOrRoutes_FailsAskingForThem()
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, output) = await RunAsync(helm, "template", "ci", RepositoryRoot.Combine("charts", "sidecar"));

        Assert.True(exitCode != 0, $"helm template rendered a sidecar without upstreams:\n{output}");
        Assert.Contains("at '/sidecar/config': missing properties 'clusters', 'routes'", output, StringComparison.Ordinal);
    }

    [ToolFact("helm")]
    public async Task Template_UsersClusters_AreTheOnlyClustersInTheConfig()
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, rendered) = await TemplateAsync(helm, ["--set", "sidecar.config.clusters.orders.destinations[0]=http://orders-v2:8080"]);

        Assert.True(exitCode == 0, rendered);
        var configMap = Assert.Single(Documents(rendered), d => Kind(d) == "ConfigMap");
        var config = Assert.Single(Documents(Scalar(Map(configMap, "data"), "sidecar.yaml")));
        Assert.Equal(["orders", "payments"], Map(config, "clusters").Children.Keys.Select(k => ((YamlScalarNode)k).Value));
        Assert.Equal("ci-sidecar-config", Scalar(Map(configMap, "metadata"), "name"));
    }

    [ToolTheory("helm")]
    [MemberData(nameof(GoodOverrides))]
    public async Task Template_RealisticValues_RendersAConfigSidecarValidateAcceptsAndAPodThatMatchesIt(string name, string[] overrides)
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, rendered) = await TemplateAsync(helm, overrides);
        Assert.True(exitCode == 0, $"{name}: helm template failed ({exitCode}):\n{rendered}");
        var documents = Documents(rendered);

        // 1. The config as the pod will read it: sidecar validate accepts it.
        var configMap = Assert.Single(documents, d => Kind(d) == "ConfigMap");
        var yaml = Scalar(Map(configMap, "data"), "sidecar.yaml");
        var path = Path.Combine(_directory, "sidecar.yaml");
        await File.WriteAllTextAsync(path, yaml);
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var valid = ValidateCommand.Run(path, output, errors);
        Assert.True(valid == 0, $"{name}: sidecar validate rejected the rendered config:\n{errors}\n--- sidecar.yaml ---\n{yaml}");

        // 2. The pod: ports, probes, annotations and the application's SIDECAR_PROXY_URL follow the listen addresses.
        var config = Assert.Single(Documents(yaml));
        var listen = Map(config, "listen");
        var proxyPort = Port(Scalar(listen, "proxy"));
        var metricsPort = Port(Scalar(listen, "metrics"));
        var pod = Map(Map(Assert.Single(documents, d => Kind(d) == "Deployment"), "spec"), "template");
        var spec = Map(pod, "spec");
        var sidecar = (YamlMappingNode)Assert.Single(((YamlSequenceNode)spec.Children[new YamlScalarNode("initContainers")]).Children);
        var ports = ((YamlSequenceNode)sidecar.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name"), p => Scalar(p, "containerPort"));
        Assert.Equal(proxyPort, ports["sidecar-proxy"]);
        Assert.Equal(metricsPort, ports["metrics"]);
        Assert.Equal(2, ports.Count);
        Assert.Equal(metricsPort, Scalar(Map(Map(pod, "metadata"), "annotations"), "prometheus.io/port"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("metrics", Scalar(Map(Map(sidecar, probe), "httpGet"), "port"));
        }

        // 3. The pod: no API token, and a grace period that covers Sidecar's drain (derived: drain + 5s).
        Assert.Equal("false", Scalar(spec, "automountServiceAccountToken"));
        var grace = int.Parse(Scalar(spec, "terminationGracePeriodSeconds"), System.Globalization.CultureInfo.InvariantCulture);
        var drain = DrainSeconds(config);
        var explicitGrace = overrides.SkipWhile(o => !o.StartsWith("terminationGracePeriodSeconds=", StringComparison.Ordinal)).FirstOrDefault();
        Assert.Equal(explicitGrace is null ? drain + 5 : int.Parse(explicitGrace.Split('=')[1], System.Globalization.CultureInfo.InvariantCulture), grace);
        Assert.True(grace >= drain, $"{name}: grace period {grace}s is shorter than the drain {drain}s");
        Assert.EndsWith("-config", Scalar(Map(configMap, "metadata"), "name"), StringComparison.Ordinal);
        Assert.DoesNotContain("sidecar-sidecar", Scalar(Map(configMap, "metadata"), "name"), StringComparison.Ordinal);

        var app = (YamlMappingNode)((YamlSequenceNode)spec.Children[new YamlScalarNode("containers")]).Children.Single(c => Scalar((YamlMappingNode)c, "name") == "app");
        var proxyUrl = ((YamlSequenceNode)app.Children[new YamlScalarNode("env")]).Children.Cast<YamlMappingNode>().Single(e => Scalar(e, "name") == "SIDECAR_PROXY_URL");
        Assert.Equal(proxyPort, Port(Scalar(proxyUrl, "value")));
        Assert.True(
            Reaches(new Uri(Scalar(listen, "proxy").Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal)).Host, new Uri(Scalar(proxyUrl, "value")).Host),
            $"{name}: SIDECAR_PROXY_URL {Scalar(proxyUrl, "value")} does not reach listen.proxy {Scalar(listen, "proxy")}");

        var service = Assert.Single(documents, d => Kind(d) == "Service");
        var servicePorts = ((YamlSequenceNode)Map(service, "spec").Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().ToList();
        Assert.Equal(metricsPort, Scalar(servicePorts.Single(p => Scalar(p, "name") == "metrics"), "port"));
        Assert.Equal(["http", "metrics"], servicePorts.Select(p => Scalar(p, "name")));
    }

    [ToolTheory("helm")]
    [MemberData(nameof(BrokenOverrides))]
    public async Task Template_OverrideThatBreaksThePod_FailsTheRenderNamingTheKeys(string name, string[] overrides, string expected)
    {
        var helm = ExternalTool.Require("helm");

        var (exitCode, output) = await TemplateAsync(helm, overrides);

        Assert.True(exitCode != 0, $"{name}: helm template rendered a pod that cannot start:\n{output}");
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output)> TemplateAsync(string helm, string[] overrides)
    {
        await File.WriteAllTextAsync(Path.Combine(_directory, "two-upstreams.yaml"), TwoUpstreamsValues);
        return await RunAsync(helm, ["template", "ci", RepositoryRoot.Combine("charts", "sidecar"), "--values", OutboundValues, .. overrides]);
    }

    private async Task<(int ExitCode, string Output)> RunAsync(string fileName, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // helm keeps caches and config under HOME; a fresh folder keeps runs apart and leaves the user's alone.
        startInfo.Environment["HELM_CACHE_HOME"] = Path.Combine(_directory, ".cache");
        startInfo.Environment["HELM_CONFIG_HOME"] = Path.Combine(_directory, ".config");
        startInfo.Environment["HELM_DATA_HOME"] = Path.Combine(_directory, ".data");
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The chart's example of the values every install adds: the upstreams (the chart ships none).</summary>
    private static string OutboundValues => RepositoryRoot.Combine("charts", "sidecar", "ci", "outbound-values.yaml");

    /// <summary>limits.drain_delay + limits.drain_timeout of a rendered config in whole seconds, Sidecar's defaults where absent.</summary>
    private static int DrainSeconds(YamlMappingNode config)
    {
        var limits = config.Children.TryGetValue(new YamlScalarNode("limits"), out var node) ? (YamlMappingNode)node : new YamlMappingNode();
        var delay = Scalar(limits, "drain_delay") is { Length: > 0 } d && DurationParser.TryParse(d, out var parsedDelay) ? parsedDelay : ConfigDefaults.DrainDelay;
        var timeout = Scalar(limits, "drain_timeout") is { Length: > 0 } t && DurationParser.TryParse(t, out var parsedTimeout) ? parsedTimeout : ConfigDefaults.DrainTimeout;
        return (int)Math.Ceiling((delay + timeout).TotalSeconds);
    }

    private static List<YamlMappingNode> Documents(string rendered)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(rendered));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    private static string Kind(YamlMappingNode document) => Scalar(document, "kind");

    private static YamlMappingNode Map(YamlMappingNode node, string key) =>
        Assert.IsType<YamlMappingNode>(node.Children[new YamlScalarNode(key)]);

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value ?? string.Empty : string.Empty;

    /// <summary>Whether a connection to <paramref name="target"/> reaches a server bound to <paramref name="bound"/>.</summary>
    private static bool Reaches(string bound, string target) => bound switch
    {
        "0.0.0.0" => target.StartsWith("127.", StringComparison.Ordinal),
        "[::]" => target is "[::1]" || target.StartsWith("127.", StringComparison.Ordinal),
        "localhost" => target is "[::1]" or "127.0.0.1",
        _ => bound == target,
    };

    private static string Port(string url)
    {
        var match = PortOf().Match(url);
        Assert.True(match.Success, $"no port in '{url}'");
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@":([0-9]+)/?$")]
    private static partial Regex PortOf();
}
