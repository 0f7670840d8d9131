using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sidecar.Admin;
using Sidecar.Configuration;

namespace Sidecar.Tests.Admin;

/// <summary>
/// <c>/config</c> speaks the YAML's own language: its JSON (which is YAML) read back through the loader gives the
/// same configuration, and enumerations, durations and conditions are spelt as a config file spells them.
/// </summary>
public sealed class EffectiveConfigWriterTests
{
    private const string Source = "config/test.yaml";

    private const string Full = """
        listen:
          proxy: http://127.0.0.1:18080
          admin: http://127.0.0.1:19901
          metrics: http://0.0.0.0:19902
          proxy_protocol: h2c
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
            protocol: http2
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
            allow_explain: true
            retry_until:
              - status: [200, 2xx]
                header: { name: x-state, values: [done] }
                json: { path: data.state, equals: ready }
              - json: { path: ok, equals: "true" }
            hedge: { delay: 150ms, max_extra: 2 }
          writes:
            methods: [post, PATCH]
            budget: { enabled: false }
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
            match: { path: "/{**rest}" }
            cluster: billing
        limits:
          max_buffered_bytes: 16MiB
          max_concurrent_requests: 200
          max_waiting_retries: 50
          drain_timeout: 20s
          drain_delay: 2s
        telemetry: { dotnet_metrics: true }
        logs: { access: failures, access_sample: 0.25 }
        """;

    [Fact]
    public void Write_ReadBackThroughTheLoader_GivesTheSameConfig()
    {
        var first = Render(Load(Full));

        var reloaded = Load(AsConfigFile(first));

        Assert.Equal(WithoutReport(first), WithoutReport(Render(reloaded)));
    }

    [Fact]
    public void Write_MinimalConfig_EveryDefaultReadsBackTheSame()
    {
        var first = Render(Load("""
            clusters:
              app: { destinations: ["http://127.0.0.1:1"] }
            policies:
              p: {}
            routes:
              - { name: r, match: { path: "/{**rest}" }, cluster: app, policy: p }
            """));

        Assert.Equal(WithoutReport(first), WithoutReport(Render(Load(AsConfigFile(first)))));
    }

    [Fact]
    public void Write_Spellings_AreTheYamlOnes()
    {
        var config = JsonNode.Parse(Render(Load(Full)))!;
        var policy = config["policies"]!["default"]!;
        var headers = config["routes"]![0]!["match"]!["headers"]!;

        Assert.Equal("prefix", (string?)headers[0]!["mode"]);
        Assert.Equal("not-exists", (string?)headers[1]!["mode"]);
        Assert.Equal("fibonacci", (string?)policy["backoff"]!["algorithm"]);
        Assert.Equal("decorrelated", (string?)policy["backoff"]!["jitter"]);
        Assert.Equal("20ms", (string?)policy["backoff"]!["base"]);
        Assert.Equal("2s", (string?)policy["backoff"]!["max"]);
        Assert.Equal("1.5s", (string?)policy["per_try_timeout"]);
        Assert.Equal("1m", (string?)policy["timeout"]);
        Assert.Equal("1MiB", (string?)policy["buffer_limit"]);
        Assert.Equal("16MiB", (string?)config["limits"]!["max_buffered_bytes"]);
        Assert.Equal("h2c", (string?)config["listen"]!["proxy_protocol"]);
        Assert.Equal("http://0.0.0.0:19902", (string?)config["listen"]!["metrics"]);
        Assert.Equal("http2", (string?)config["clusters"]!["billing"]!["protocol"]);
        Assert.Equal(2, policy["retry_until"]!.AsArray().Count);
        Assert.Equal("data.state", (string?)policy["retry_until"]![0]!["json"]!["path"]);
        Assert.True((bool?)policy["allow_explain"]);
        Assert.Equal("failures", (string?)config["logs"]!["access"]);
        Assert.Equal(0.25, (double?)config["logs"]!["access_sample"]);
    }

    [Fact]
    public void Write_HeaderMatchValuesAndHealthCheckQuery_NeverShown()
    {
        var text = Render(Load("""
            clusters:
              app:
                destinations: [http://app:8080]
                health: { active: { interval: 5s, timeout: 1s, path: "/healthz?token=hunter2" } }
            routes:
              - name: internal
                match: { path: "/{**rest}", headers: [{ name: x-internal-token, values: [TopSecretToken123] }] }
                cluster: app
            """));

        Assert.DoesNotContain("TopSecretToken123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", text, StringComparison.Ordinal);
        var config = JsonNode.Parse(text)!;
        Assert.Equal("/healthz?REDACTED", (string?)config["clusters"]!["app"]!["health"]!["active"]!["path"]);
        var header = config["routes"]![0]!["match"]!["headers"]![0]!;
        Assert.Equal("x-internal-token", (string?)header["name"]);
        Assert.Equal(["REDACTED"], header["values"]!.AsArray().Select(v => (string?)v));
    }

    [Fact]
    public void Write_NoMetricsListener_LeavesTheKeyOut()
    {
        var config = JsonNode.Parse(Render(Load("""
            clusters:
              app: { destinations: ["http://127.0.0.1:1"] }
            routes:
              - { name: r, cluster: app }
            """)))!;

        Assert.False(config["listen"]!.AsObject().ContainsKey("metrics"));
        Assert.Equal(ConfigDefaults.AdminAddress, (string?)config["listen"]!["admin"]);
    }

    private static SidecarConfig Load(string yaml)
    {
        var loaded = SidecarConfigLoader.Parse(yaml, Source);
        Assert.True(loaded.Succeeded, string.Join("\n", loaded.Errors) + "\n" + yaml);
        return loaded.Config!;
    }

    private static string Render(SidecarConfig config)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            EffectiveConfigWriter.Write(json, config);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The config part of <c>/config</c> as a file: what it reports beside the config (source, origins, memory) left out.</summary>
    private static string AsConfigFile(string rendered) => WithoutReport(rendered);

    private static string WithoutReport(string rendered)
    {
        var root = JsonNode.Parse(rendered)!.AsObject();
        root.Remove("source");
        var limits = root["limits"]!.AsObject();
        limits.Remove("origin");
        limits.Remove("memory");
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
