using System.Diagnostics;
using System.Text.RegularExpressions;
using Sidecar.Cli;
using Xunit.Abstractions;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Tests.Packaging;

/// <summary>
/// charts/sidecar through a real helm (v4; .ci/run installs it): <c>helm lint --strict</c>, and <c>helm template</c>
/// with the default values and with realistic overrides, every rendered sidecar.yaml through <c>sidecar validate</c>
/// (<see cref="ValidateCommand"/>) and the pod's ports, probes and SIDECAR_PROXY_URL against its listen addresses.
/// Overrides that deep-merge into a config Sidecar rejects, or into a pod that cannot work, fail the render with a
/// message naming the keys.
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
              - name: app
                match: { path: "/{**rest}" }
                cluster: app
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
        { "per-try timeout dropped", ["--set", "sidecar.config.policies.default.timeout=1s", "--set", "sidecar.config.policies.default.per_try_timeout=null"] },
        { "proxy on another port", ["--set", "sidecar.config.listen.proxy=http://127.0.0.1:9000"] },
        { "admin on another port", ["--set", "sidecar.config.listen.admin=http://0.0.0.0:9902"] },
        { "admin on IPv6", ["--set", "sidecar.config.listen.admin=http://[::]:9901", "--set", "sidecar.config.listen.proxy=http://[::1]:8080"] },
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
            "admin on loopback",
            ["--set", "sidecar.config.listen.admin=http://127.0.0.1:9901"],
            "listen.admin (http://127.0.0.1:9901) binds 127.0.0.1 only"
        },
        {
            "admin on an ephemeral port",
            ["--set", "sidecar.config.listen.admin=http://0.0.0.0:0"],
            "listen.admin (http://0.0.0.0:0) needs a fixed port"
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

        var (exitCode, output) = await RunAsync(helm, "lint", "--strict", RepositoryRoot.Combine("charts", "sidecar"));

        Assert.True(exitCode == 0, $"helm lint --strict failed ({exitCode}):\n{output}");
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
        var listen = Map(Assert.Single(Documents(yaml)), "listen");
        var proxyPort = Port(Scalar(listen, "proxy"));
        var adminPort = Port(Scalar(listen, "admin"));
        var pod = Map(Map(Assert.Single(documents, d => Kind(d) == "Deployment"), "spec"), "template");
        var spec = Map(pod, "spec");
        var sidecar = (YamlMappingNode)Assert.Single(((YamlSequenceNode)spec.Children[new YamlScalarNode("initContainers")]).Children);
        var ports = ((YamlSequenceNode)sidecar.Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name"), p => Scalar(p, "containerPort"));
        Assert.Equal(proxyPort, ports["sidecar-proxy"]);
        Assert.Equal(adminPort, ports["sidecar-admin"]);
        Assert.Equal(adminPort, Scalar(Map(Map(pod, "metadata"), "annotations"), "prometheus.io/port"));
        foreach (var probe in new[] { "startupProbe", "livenessProbe", "readinessProbe" })
        {
            Assert.Equal("sidecar-admin", Scalar(Map(Map(sidecar, probe), "httpGet"), "port"));
        }

        var app = (YamlMappingNode)((YamlSequenceNode)spec.Children[new YamlScalarNode("containers")]).Children.Single(c => Scalar((YamlMappingNode)c, "name") == "app");
        var proxyUrl = ((YamlSequenceNode)app.Children[new YamlScalarNode("env")]).Children.Cast<YamlMappingNode>().Single(e => Scalar(e, "name") == "SIDECAR_PROXY_URL");
        Assert.Equal(proxyPort, Port(Scalar(proxyUrl, "value")));
        Assert.True(
            Reaches(new Uri(Scalar(listen, "proxy").Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal)).Host, new Uri(Scalar(proxyUrl, "value")).Host),
            $"{name}: SIDECAR_PROXY_URL {Scalar(proxyUrl, "value")} does not reach listen.proxy {Scalar(listen, "proxy")}");

        var service = Assert.Single(documents, d => Kind(d) == "Service");
        var servicePorts = ((YamlSequenceNode)Map(service, "spec").Children[new YamlScalarNode("ports")]).Children.Cast<YamlMappingNode>();
        Assert.Equal(adminPort, Scalar(servicePorts.Single(p => Scalar(p, "name") == "sidecar-admin"), "port"));
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
        return await RunAsync(helm, ["template", "ci", RepositoryRoot.Combine("charts", "sidecar"), .. overrides]);
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
