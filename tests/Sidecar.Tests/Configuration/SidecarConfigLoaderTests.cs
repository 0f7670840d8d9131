using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class SidecarConfigLoaderTests
{
    private const string File = "config/test.yaml";

    private const string Minimal = """
        clusters:
          orders:
            destinations: [http://orders:8080]
        routes:
          - name: orders
            cluster: orders
        """;

    private const string Full = """
        listen:
          proxy: http://127.0.0.1:18080
          admin: http://127.0.0.1:19901
          metrics: http://0.0.0.0:19902
        clusters:
          orders:
            destinations: [http://orders:8080, https://orders-2:8443/base]
            load_balancing: RoundRobin
            health:
              passive: true
              reactivation_period: 30s
              active: { interval: 5s, timeout: 1s, path: /ready }
            circuit_breaker: { failure_ratio: 0.25, minimum_requests: 10, window: 20s, break_duration: 3s }
          billing:
            destinations: [http://billing]
        policies:
          default:
            max_attempts: 4
            backoff: { algorithm: fibonacci, base: 20ms, max: 2s, multiplier: 3, jitter: decorrelated, jitter_factor: 0.5 }
            retry_on:
              status: [429, 503, 5xx]
              errors: [connect-failure, per-try-timeout]
              headers: [{ name: x-retry, values: ["yes", later] }, { name: x-busy }]
            methods: [idempotent, POST]
            per_try_timeout: 1500ms
            timeout: 1m
            retry_after: { honor: false, max: 10s }
            buffer_limit: 1MiB
            budget: { ratio: 0.5, min_per_second: 3, window: 1m }
            max_concurrent_retries: 7
            allow_overrides: true
            retry_until:
              - status: [200, 2xx]
                header: { name: x-state, values: [done] }
                json: { path: data.state, equals: ready }
            hedge: { delay: 150ms, max_extra: 2 }
          writes:
            methods: [post, PATCH]
            budget: off
        routes:
          - name: orders-read
            match:
              path: "/orders/{**rest}"
              methods: [GET, head]
              hosts: [orders.local, "*.example.com:8080"]
              headers:
                - { name: x-tenant, values: [blue, green], mode: prefix }
                - { name: x-debug, mode: not-exists }
            cluster: orders
            policy: default
          - name: billing
            cluster: billing
            policy: writes
        limits:
          max_buffered_bytes: 16MiB
          max_concurrent_requests: 200
          max_waiting_retries: 50
          drain_timeout: 20s
          drain_delay: 0s
          overload:
            enabled: false
            check_interval: 1s
            stop_buffering: 0.5
            reject_requests: 0.7
            stop_accepting: 0.8
            recovery_margin: 0.05
        """;

    [Fact]
    public void Parse_FullConfig_BindsEveryValue()
    {
        var result = SidecarConfigLoader.Parse(Full, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        var config = result.Config!;
        Assert.Equal(File, config.SourcePath);
        Assert.Equal("http://127.0.0.1:18080", config.Listen.Proxy);
        Assert.Equal("http://127.0.0.1:19901", config.Listen.Admin);
        Assert.Equal("http://0.0.0.0:19902", config.Listen.Metrics);

        Assert.Equal(["orders", "billing"], config.Clusters.Keys);
        var orders = config.Clusters["orders"];
        Assert.Equal("orders", orders.Name);
        Assert.Equal(["http://orders:8080", "https://orders-2:8443/base"], orders.Destinations);
        Assert.Equal("RoundRobin", orders.LoadBalancing);
        Assert.True(orders.Health.Passive);
        Assert.Equal(TimeSpan.FromSeconds(30), orders.Health.ReactivationPeriod);
        Assert.Equal(new ActiveHealthOptions { Interval = TimeSpan.FromSeconds(5), Timeout = TimeSpan.FromSeconds(1), Path = "/ready" }, orders.Health.Active);
        Assert.Equal(
            new CircuitBreakerOptions { FailureRatio = 0.25, MinimumRequests = 10, Window = TimeSpan.FromSeconds(20), BreakDuration = TimeSpan.FromSeconds(3) },
            orders.CircuitBreaker);

        Assert.Equal(["default", "writes"], config.Policies.Keys);
        var policy = config.Policies["default"];
        Assert.Equal(17, policy.Line);
        Assert.Equal(4, policy.MaxAttempts);
        Assert.Equal(
            new BackoffOptions
            {
                Algorithm = BackoffAlgorithm.Fibonacci,
                Base = TimeSpan.FromMilliseconds(20),
                Max = TimeSpan.FromSeconds(2),
                Multiplier = 3,
                Jitter = JitterMode.Decorrelated,
                JitterFactor = 0.5,
            },
            policy.Backoff);
        Assert.Equal([new StatusMatcher(429, 429), new StatusMatcher(503, 503), new StatusMatcher(500, 599)], policy.RetryOn.Status);
        Assert.Equal(RetryableErrors.ConnectFailure | RetryableErrors.PerTryTimeout, policy.RetryOn.Errors);
        Assert.Equal(2, policy.RetryOn.Headers.Count);
        Assert.Equal("x-retry", policy.RetryOn.Headers[0].Name);
        Assert.Equal(["yes", "later"], policy.RetryOn.Headers[0].Values);
        Assert.Equal("x-busy", policy.RetryOn.Headers[1].Name);
        Assert.Empty(policy.RetryOn.Headers[1].Values);
        Assert.Equal(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT", "TRACE"], policy.Methods.Order(StringComparer.Ordinal));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), policy.PerTryTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), policy.Timeout);
        Assert.Equal(new RetryAfterOptions { Honor = false, Max = TimeSpan.FromSeconds(10) }, policy.RetryAfter);
        Assert.Equal(1024 * 1024, policy.BufferLimit);
        Assert.Equal(new BudgetOptions { Enabled = true, Ratio = 0.5, MinPerSecond = 3, Window = TimeSpan.FromMinutes(1) }, policy.Budget);
        Assert.Equal(7, policy.MaxConcurrentRetries);
        Assert.True(policy.AllowOverrides);
        var condition = Assert.Single(policy.RetryUntil);
        Assert.Equal([new StatusMatcher(200, 200), new StatusMatcher(200, 299)], condition.Status);
        Assert.Equal("x-state", condition.Header!.Name);
        Assert.Equal(["done"], condition.Header.Values);
        Assert.Equal("data.state", condition.JsonPath);
        Assert.Equal("ready", condition.JsonEquals);
        Assert.Equal(new HedgeOptions { Delay = TimeSpan.FromMilliseconds(150), MaxExtra = 2 }, policy.Hedge);

        var writes = config.Policies["writes"];
        Assert.Equal(["PATCH", "POST"], writes.Methods.Order(StringComparer.Ordinal));
        Assert.False(writes.Budget.Enabled);

        Assert.Equal(2, config.Routes.Count);
        var route = config.Routes[0];
        Assert.Equal("orders-read", route.Name);
        Assert.Equal(41, route.Line);
        Assert.Equal("/orders/{**rest}", route.Match.Path);
        Assert.Equal(["GET", "HEAD"], route.Match.Methods);
        Assert.Equal(["orders.local", "*.example.com:8080"], route.Match.Hosts);
        Assert.Equal(2, route.Match.Headers.Count);
        Assert.Equal("x-tenant", route.Match.Headers[0].Name);
        Assert.Equal(["blue", "green"], route.Match.Headers[0].Values);
        Assert.Equal(HeaderMatchMode.Prefix, route.Match.Headers[0].Mode);
        Assert.Equal(HeaderMatchMode.NotExists, route.Match.Headers[1].Mode);
        Assert.Equal("orders", route.Cluster);
        Assert.Equal("default", route.Policy);
        Assert.Equal("writes", config.Routes[1].Policy);

        Assert.Equal(
            new LimitsOptions
            {
                MaxBufferedBytes = 16 * 1024 * 1024,
                MaxBufferedBytesConfigured = true,
                MaxConcurrentRequests = 200,
                MaxConcurrentRequestsConfigured = true,
                MaxWaitingRetries = 50,
                DrainTimeout = TimeSpan.FromSeconds(20),
                DrainDelay = TimeSpan.Zero,
                Overload = new OverloadOptions
                {
                    Enabled = false,
                    CheckInterval = TimeSpan.FromSeconds(1),
                    StopBuffering = 0.5,
                    RejectRequests = 0.7,
                    StopAccepting = 0.8,
                    RecoveryMargin = 0.05,
                },
            },
            config.Limits);
    }

    [Fact]
    public void Parse_OptionalSectionsOmitted_UsesDefaults()
    {
        var result = SidecarConfigLoader.Parse(Minimal, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        var config = result.Config!;
        Assert.Equal(new ListenOptions(), config.Listen);
        Assert.Equal(ConfigDefaults.ProxyAddress, config.Listen.Proxy);
        Assert.Equal(ConfigDefaults.AdminAddress, config.Listen.Admin);
        Assert.Null(config.Listen.Metrics);
        Assert.Equal(new LimitsOptions(), config.Limits);
        Assert.Empty(config.Policies);
        var cluster = config.Clusters["orders"];
        Assert.Equal(ConfigDefaults.LoadBalancing, cluster.LoadBalancing);
        Assert.Equal(new HealthOptions(), cluster.Health);
        Assert.Null(cluster.CircuitBreaker);
        var route = Assert.Single(config.Routes);
        Assert.Equal(5, route.Line);
        Assert.Null(route.Policy);
        Assert.Equal(new RouteMatchOptions().Path, route.Match.Path);
        Assert.Empty(route.Match.Methods);
    }

    [Theory]
    [InlineData("", "Auto")]
    [InlineData("protocol: auto", "Auto")]
    [InlineData("protocol: http2", "Http2")]
    public void Parse_ClusterProtocol_Binds(string line, string expected)
    {
        var result = SidecarConfigLoader.Parse(Minimal.Replace("destinations: [http://orders:8080]", "destinations: [http://orders:8080]\n    " + line, StringComparison.Ordinal), File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(Enum.Parse<UpstreamProtocol>(expected), result.Config!.Clusters["orders"].Protocol);
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("telemetry: {}", false)]
    [InlineData("telemetry: { dotnet_metrics: false }", false)]
    [InlineData("telemetry: { dotnet_metrics: true }", true)]
    public void Parse_TelemetryDotnetMetrics_BindsOffByDefault(string section, bool expected)
    {
        var result = SidecarConfigLoader.Parse(Minimal + "\n" + section, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(expected, result.Config!.Telemetry.DotnetMetrics);
        Assert.False(ConfigDefaults.DotnetMetrics);
    }

    [Fact]
    public void Parse_UnknownClusterProtocol_ReportsAllowedValues()
    {
        var result = SidecarConfigLoader.Parse(Minimal.Replace("destinations: [http://orders:8080]", "destinations: [http://orders:8080]\n    protocol: h2c", StringComparison.Ordinal), File);

        var error = Assert.Single(result.Errors);
        Assert.Equal("clusters.orders.protocol", error.KeyPath);
        Assert.Contains("http2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyPolicy_UsesPolicyDefaults()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              default: {}
            routes:
              - name: orders
                cluster: orders
                policy: default
            """;

        var policy = SidecarConfigLoader.Parse(yaml, File).Config!.Policies["default"];

        Assert.Equal(new RetryPolicyOptions { Name = "default", Line = 5 }, policy);
        Assert.Equal(ConfigDefaults.MaxAttempts, policy.MaxAttempts);
        Assert.Equal(ConfigDefaults.RetryStatuses, policy.RetryOn.Status);
        Assert.Equal(RetryableErrors.All, policy.RetryOn.Errors);
        Assert.Same(ConfigDefaults.IdempotentMethods, policy.Methods);
        Assert.True(policy.Budget.Enabled);
        Assert.Equal(ConfigDefaults.BudgetRatio, policy.Budget.Ratio);
        Assert.Null(policy.Timeout);
        Assert.Null(policy.PerTryTimeout);
        Assert.Null(policy.Hedge);
    }

    [Fact]
    public void Parse_SectionsWithEmptyValues_UseTheirDefaults()
    {
        var yaml = """
            listen:
            clusters:
              orders:
                destinations: [http://orders:8080]
                health:
                circuit_breaker:
            policies:
            routes:
              - name: orders
                cluster: orders
                match:
            limits:
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(new CircuitBreakerOptions(), result.Config!.Clusters["orders"].CircuitBreaker);
        Assert.Equal(new LimitsOptions(), result.Config.Limits);
    }

    [Theory]
    [InlineData("budget: off", false)]
    [InlineData("budget: false", false)]
    [InlineData("budget: { enabled: false }", false)]
    [InlineData("budget: on", true)]
    [InlineData("budget: { ratio: 0.1 }", true)]
    public void Parse_BudgetSwitch_SetsEnabled(string budgetLine, bool expectedEnabled)
    {
        var yaml = $"""
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              default:
                {budgetLine}
            routes:
              - name: orders
                cluster: orders
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(expectedEnabled, result.Config!.Policies["default"].Budget.Enabled);
    }

    [Fact]
    public void Parse_MethodsIdempotentKeyword_UsesIdempotentSet()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              default:
                methods: idempotent
            routes:
              - name: orders
                cluster: orders
            """;

        var methods = SidecarConfigLoader.Parse(yaml, File).Config!.Policies["default"].Methods;

        Assert.True(methods.SetEquals(ConfigDefaults.IdempotentMethods));
        Assert.DoesNotContain("POST", methods);
    }

    [Fact]
    public void Parse_HedgeWithNonIdempotentMethods_IsAccepted()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              default:
                methods: [POST]
                hedge: { delay: 100ms }
            routes:
              - name: orders
                cluster: orders
                policy: default
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(1, result.Config!.Policies["default"].Hedge!.MaxExtra);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9901", "http://10.0.0.5:9901")]
    [InlineData("http://127.0.0.1:0", "http://0.0.0.0:0")]
    public void Parse_MetricsOnAPortNoOtherListenerHolds_IsAccepted(string admin, string metrics)
    {
        var yaml = $"""
            listen: {"{"} admin: "{admin}", metrics: "{metrics}" {"}"}
            {Minimal}
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(metrics, result.Config!.Listen.Metrics);
    }

    [Theory]
    [InlineData("http://*:8080")]
    [InlineData("http://+:8080")]
    [InlineData("http://[::]:8080")]
    [InlineData("http://0.0.0.0:9000/")]
    public void Parse_ValidListenAddress_IsAccepted(string address)
    {
        var yaml = $"""
            listen: {"{"} proxy: "{address}" {"}"}
            {Minimal}
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(address, result.Config!.Listen.Proxy);
    }

    [Fact]
    public void Parse_YamlSyntaxError_ReportsLineAndColumn()
    {
        var yaml = """
            clusters:
              orders:
               destinations: [http://orders:8080]
              - billing
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.Equal(File, error.File);
        Assert.Equal(4, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Equal(string.Empty, error.KeyPath);
        Assert.Equal("config/test.yaml:4:3 YAML syntax error: While parsing a block mapping, did not find expected key.", error.ToString());
    }

    [Fact]
    public void Parse_UnclosedFlowSequence_ReportsWhereParsingStopped()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080
            routes: []
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        var error = Assert.Single(result.Errors);
        Assert.Equal("config/test.yaml:3:19 YAML syntax error after this point (is a '[', '{' or quote left open?)", error.ToString());
    }

    [Fact]
    public void Parse_AliasRightAfterFlowMapping_ReportsSyntaxErrorInsteadOfThrowing()
    {
        // Found by the config fuzzer: YamlDotNet's parser accepts this, then its node model throws ArgumentException.
        var yaml = """
            clusters:
              orders: { destinations: [http://orders:8080] }*a
            routes: []
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        var error = Assert.Single(result.Errors);
        Assert.True(error.Line >= 1 && error.Column >= 1, error.ToString());
        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnclosedQuote_ReportsSyntaxError()
    {
        var result = SidecarConfigLoader.Parse("clusters: 'orders\n", File);

        var error = Assert.Single(result.Errors);
        Assert.Equal((1, 11), (error.Line, error.Column));
        Assert.Contains("YAML syntax error", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_EmptyFile_ReportsRequiredSections()
    {
        var result = SidecarConfigLoader.Parse("# nothing here\n", File);

        Assert.Equal(
            [
                "config/test.yaml:1:1 clusters: missing required key 'clusters' (the file is empty)",
                "config/test.yaml:1:1 routes: missing required key 'routes' (the file is empty)",
            ],
            result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parse_TwoDocuments_ReportsSecondDocument()
    {
        var yaml = Minimal + "\n---\nlimits: {}\n";

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.Equal(["config/test.yaml:8:1 only one YAML document is allowed; remove the second '---'"], result.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void LoadFile_ExistingFile_ParsesItAndKeepsPathAsGiven()
    {
        var directory = Directory.CreateTempSubdirectory("sidecar-config-");
        try
        {
            var path = Path.Combine(directory.FullName, "sidecar.yaml");
            System.IO.File.WriteAllText(path, Minimal);

            var result = SidecarConfigLoader.LoadFile(path);

            Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
            Assert.Equal(path, result.Config!.SourcePath);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void LoadFile_MissingFile_ReportsOneErrorAtFirstLine()
    {
        var result = SidecarConfigLoader.LoadFile("config/does-not-exist.yaml");

        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        var error = Assert.Single(result.Errors);
        Assert.Equal("config/does-not-exist.yaml:1:1 configuration file not found", error.ToString());
    }

    [Fact]
    public void LoadFile_Directory_ReportsUnreadableFile()
    {
        var result = SidecarConfigLoader.LoadFile(AppContext.BaseDirectory);

        var error = Assert.Single(result.Errors);
        Assert.Equal(AppContext.BaseDirectory, error.File);
        Assert.StartsWith("cannot read configuration file: ", error.Message, StringComparison.Ordinal);
    }
}
