using System.Globalization;
using Sidecar.Configuration;

namespace Sidecar.Demo;

/// <summary>
/// The Sidecar configuration the demo runs: one cluster (the flaky upstream) and two routes to it, one with the
/// default retry policy (with a short per-try timeout so slow answers are abandoned) and one with no policy. A third
/// route, on a cluster of its own to the same upstream, carries the warm-up's retried requests: they compile the
/// retry path without spending the measured cluster's retry budget, so the measured run starts with the budget a
/// steady state has (and a simulation of the same config starts with).
/// </summary>
internal static class DemoPolicy
{
    public const string WithRetriesPrefix = "/with-retries";
    public const string WithoutRetriesPrefix = "/without-retries";
    public const string WithRetriesRoute = "with-retries";
    public const string WithoutRetriesRoute = "without-retries";
    public const string WarmUpPrefix = "/warm-up";
    public const string WarmUpRoute = "warm-up";
    public const int MaxAttempts = 3;
    public const double BudgetRatio = 0.2;
    public const int BudgetMinPerSecond = 10;
    public const string PerTryTimeout = "500ms";
    public const string Backoff = "exponential 50ms..1s, full jitter";

    /// <summary>
    /// Proxy and admin on ephemeral loopback ports, so the demo never collides with a Sidecar already running on the
    /// default ports. Set on the parsed config rather than in <see cref="Yaml"/>: the loader rejects two equal
    /// <c>listen</c> addresses, and two <c>:0</c> addresses are textually equal although they never collide.
    /// </summary>
    public static ListenOptions Listen { get; } = new() { Proxy = "http://127.0.0.1:0", Admin = "http://127.0.0.1:0" };

    /// <summary>The YAML handed to the config loader (clusters, policies, routes; see <see cref="Listen"/>).</summary>
    public static string Yaml(Uri upstream) => string.Create(CultureInfo.InvariantCulture, $$"""
        clusters:
          flaky:
            destinations: [{{upstream.GetLeftPart(UriPartial.Authority)}}]
          warm-up:
            destinations: [{{upstream.GetLeftPart(UriPartial.Authority)}}]
        policies:
          demo:
            max_attempts: {{MaxAttempts}}
            backoff: { algorithm: exponential, base: 50ms, multiplier: 2, max: 1s, jitter: full }
            retry_on:
              status: [429, 503]
              errors: [connect-failure, reset, per-try-timeout]
            methods: idempotent
            per_try_timeout: {{PerTryTimeout}}
            timeout: 5s
            retry_after: { honor: true, max: 1s }
            budget: { ratio: {{BudgetRatio}}, min_per_second: {{BudgetMinPerSecond}}, window: 10s }
        routes:
          - name: {{WithRetriesRoute}}
            match: { path: "{{WithRetriesPrefix}}/{**rest}" }
            cluster: flaky
            policy: demo
          - name: {{WithoutRetriesRoute}}
            match: { path: "{{WithoutRetriesPrefix}}/{**rest}" }
            cluster: flaky
          - name: {{WarmUpRoute}}
            match: { path: "{{WarmUpPrefix}}/{**rest}" }
            cluster: warm-up
            policy: demo
        """);
}
