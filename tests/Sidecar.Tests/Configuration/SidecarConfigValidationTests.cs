using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

/// <summary>Every kind of validation error, asserted as the exact <c>file:line:col key.path: message</c> the user sees.</summary>
public sealed class SidecarConfigValidationTests
{
    private const string File = "config/sidecar.yaml";

    /// <summary>Line 6 holds the policy setting under test, at column 5.</summary>
    private const string PolicyTemplate = """
        clusters:
          orders:
            destinations: [http://orders:8080]
        policies:
          p:
            {0}
        routes:
          - name: r
            cluster: orders
            policy: p
        """;

    /// <summary>Line 4 holds the cluster setting under test, at column 5.</summary>
    private const string ClusterTemplate = """
        clusters:
          orders:
            destinations: [http://orders:8080]
            {0}
        routes:
          - name: r
            cluster: orders
        """;

    /// <summary>Line 7 holds the route setting under test, at column 5.</summary>
    private const string RouteTemplate = """
        clusters:
          orders:
            destinations: [http://orders:8080]
        routes:
          - name: r
            cluster: orders
            {0}
        """;

    /// <summary>Line 1 holds the top-level setting under test.</summary>
    private const string TopLevelTemplate = """
        {0}
        clusters:
          orders:
            destinations: [http://orders:8080]
        routes:
          - name: r
            cluster: orders
        """;

    [Fact]
    public void Parse_UnknownPolicyInRoute_ReportsLineAndKeyPath()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              default: {}
            routes:
              - name: r
                cluster: orders
                policy: fast
            """;

        AssertErrors(yaml, "config/sidecar.yaml:9:13 routes[0].policy: unknown policy 'fast'; declared: default");
    }

    [Fact]
    public void Parse_UnknownClusterInRoute_SuggestsClosestName()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
              billing:
                destinations: [http://billing:8080]
            routes:
              - name: r
                cluster: order
            """;

        AssertErrors(yaml, "config/sidecar.yaml:8:14 routes[0].cluster: unknown cluster 'order' (did you mean 'orders'?); declared: orders, billing");
    }

    [Fact]
    public void Parse_PolicyReferencedWithoutPoliciesSection_SaysNoneIsDeclared() =>
        AssertErrors(
            Format(RouteTemplate, "policy: default"),
            "config/sidecar.yaml:7:13 routes[0].policy: unknown policy 'default'; no policy is declared");

    [Fact]
    public void Parse_MisspeltKey_SuggestsClosestAndListsAllowed() =>
        AssertErrors(
            Format(PolicyTemplate, "max_attemps: 3"),
            "config/sidecar.yaml:6:5 policies.p.max_attemps: unknown key 'max_attemps' (did you mean 'max_attempts'?); allowed keys: "
            + "max_attempts, backoff, retry_on, methods, per_try_timeout, timeout, retry_after, buffer_limit, budget, "
            + "max_concurrent_retries, allow_overrides, allow_explain, retry_until, hedge");

    [Fact]
    public void Parse_UnknownTopLevelKey_ListsAllowedKeys() =>
        AssertErrors(
            Format(TopLevelTemplate, "tracing: {}"),
            "config/sidecar.yaml:1:1 tracing: unknown key 'tracing'; allowed keys: listen, clusters, policies, routes, limits, telemetry, logs");

    [Fact]
    public void Parse_DuplicateKey_ReportsSecondOccurrenceAndKeepsValidating()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            policies:
              p:
                max_attempts: 2
                max_attempts: 5
                timeout: 5
            routes:
              - name: r
                cluster: orders
            """;

        AssertErrors(
            yaml,
            "config/sidecar.yaml:7:5 policies.p.max_attempts: duplicate key 'max_attempts' (first defined at line 6)",
            "config/sidecar.yaml:8:14 policies.p.timeout: missing unit (ms, s, m, h); did you mean '5s' or '5ms'?");
    }

    [Fact]
    public void Parse_DuplicateClusterName_IsADuplicateKey()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
              orders:
                destinations: [http://orders-2:8080]
            routes:
              - name: r
                cluster: orders
            """;

        AssertErrors(yaml, "config/sidecar.yaml:4:3 clusters.orders: duplicate key 'orders' (first defined at line 2)");
    }

    [Fact]
    public void Parse_DuplicateRouteName_ReportsFirstLine()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            routes:
              - name: r
                cluster: orders
              - name: r
                cluster: orders
            """;

        AssertErrors(yaml, "config/sidecar.yaml:7:11 routes[1].name: duplicate route name 'r' (first defined at line 5)");
    }

    [Fact]
    public void Parse_EmptyRoutes_RequiresAtLeastOneRoute()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            routes: []
            """;

        AssertErrors(yaml, "config/sidecar.yaml:4:9 routes: at least one route is required");
    }

    [Fact]
    public void Parse_MissingClustersAndRoutes_ReportsBoth() =>
        AssertErrors(
            "limits: {}\n",
            "config/sidecar.yaml:1:1 clusters: missing required key 'clusters'",
            "config/sidecar.yaml:1:1 routes: missing required key 'routes'");

    [Fact]
    public void Parse_RouteWithoutNameAndCluster_ReportsEachMissingKey()
    {
        var yaml = """
            clusters:
              orders:
                destinations: [http://orders:8080]
            routes:
              - match: { path: /x }
            """;

        AssertErrors(
            yaml,
            "config/sidecar.yaml:5:5 routes[0].name: missing required key 'name'",
            "config/sidecar.yaml:5:5 routes[0].cluster: missing required key 'cluster'");
    }

    [Fact]
    public void Parse_EmptyDestinations_RequiresOne()
    {
        var yaml = """
            clusters:
              orders:
                destinations: []
            routes:
              - name: r
                cluster: orders
            """;

        AssertErrors(yaml, "config/sidecar.yaml:3:19 clusters.orders.destinations: at least one destination is required");
    }

    [Fact]
    public void Parse_BadDestinations_ReportsEachByIndex()
    {
        var yaml = """
            clusters:
              orders:
                destinations:
                  - http://orders:8080
                  - orders:8080
                  - ftp://orders
                  - http://orders:8080/?x=1
                  - http://orders:8080
            routes:
              - name: r
                cluster: orders
            """;

        AssertErrors(
            yaml,
            "config/sidecar.yaml:5:9 clusters.orders.destinations[1]: invalid destination 'orders:8080': expected an absolute http(s) URL such as 'http://orders:8080'",
            "config/sidecar.yaml:6:9 clusters.orders.destinations[2]: invalid destination 'ftp://orders': expected an absolute http(s) URL such as 'http://orders:8080'",
            "config/sidecar.yaml:7:9 clusters.orders.destinations[3]: invalid destination 'http://orders:8080/?REDACTED': a destination has no query or fragment",
            "config/sidecar.yaml:8:9 clusters.orders.destinations[4]: duplicate destination 'http://orders:8080'");
    }

    [Theory]
    [InlineData("listen: { proxy: http://127.0.0.1 }", "1:18 listen.proxy: listen address 'http://127.0.0.1' needs an explicit port; expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { proxy: 127.0.0.1:8080 }", "1:18 listen.proxy: invalid listen address '127.0.0.1:8080': expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { admin: tcp://0.0.0.0:9901 }", "1:18 listen.admin: invalid listen address 'tcp://0.0.0.0:9901': expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { admin: http://0.0.0.0:9901/metrics }", "1:18 listen.admin: invalid listen address 'http://0.0.0.0:9901/metrics': a listen address has no path or query; expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { proxy: http://127.0.0.1:9000, admin: http://127.0.0.1:9000 }", "1:9 listen.admin: the admin address must differ from the proxy address 'http://127.0.0.1:9000'")]
    [InlineData("listen: { metrics: http://0.0.0.0 }", "1:20 listen.metrics: listen address 'http://0.0.0.0' needs an explicit port; expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { metrics: 9090 }", "1:20 listen.metrics: invalid listen address '9090': expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'")]
    [InlineData("listen: { admin: http://127.0.0.1:9901, metrics: http://127.0.0.1:9901 }", "1:9 listen.metrics: the metrics address must differ from the admin address 'http://127.0.0.1:9901'")]
    [InlineData("listen: { admin: http://127.0.0.1:9901, metrics: http://0.0.0.0:9901 }", "1:9 listen.metrics: the metrics address 'http://0.0.0.0:9901' and the admin address 'http://127.0.0.1:9901' both bind port 9901")]
    [InlineData("listen: { proxy: http://127.0.0.1:8080, metrics: 'http://[::]:8080' }", "1:9 listen.metrics: the metrics address 'http://[::]:8080' and the proxy address 'http://127.0.0.1:8080' both bind port 8080")]
    [InlineData("listen: { proxy: http://*:8080, admin: http://127.0.0.1:8080 }", "1:9 listen.admin: the admin address 'http://127.0.0.1:8080' and the proxy address 'http://*:8080' both bind port 8080")]
    [InlineData("listen: [http://127.0.0.1:8080]", "1:9 listen: expected a mapping, got a list")]
    [InlineData("limits: { max_buffered_bytes: 64 }", "1:31 limits.max_buffered_bytes: missing unit (B, KiB, MiB, GiB), e.g. '64B'")]
    [InlineData("limits: { max_waiting_retries: -1 }", "1:32 limits.max_waiting_retries: must be at least 0, got -1")]
    [InlineData("limits: { drain_timeout: 2d }", "1:26 limits.drain_timeout: unknown duration unit 'd' (allowed: ms, s, m, h)")]
    [InlineData("limits: { drain_delay: 25h }", "1:24 limits.drain_delay: must be at most 24h, got 25h")]
    [InlineData("telemetry: { dotnet_metrics: sometimes }", "1:30 telemetry.dotnet_metrics: expected true or false, got 'sometimes'")]
    [InlineData("telemetry: { runtime_metrics: true }", "1:14 telemetry.runtime_metrics: unknown key 'runtime_metrics'; allowed keys: dotnet_metrics")]
    [InlineData("limits: { max_concurrent_requests: 0 }", "1:36 limits.max_concurrent_requests: must be at least 1, got 0")]
    [InlineData("limits: { overload: { stop_buffering: 0 } }", "1:39 limits.overload.stop_buffering: must be greater than 0 and at most 1, got 0")]
    [InlineData("limits: { overload: { stop_accepting: 1.5 } }", "1:39 limits.overload.stop_accepting: must be greater than 0 and at most 1, got 1.5")]
    [InlineData("limits: { overload: { reject_requests: 0.5 } }", "1:40 limits.overload.reject_requests: reject_requests (0.5) must be at least stop_buffering (0.6)")]
    [InlineData("limits: { overload: { stop_accepting: 0.7 } }", "1:39 limits.overload.stop_accepting: stop_accepting (0.7) must be at least reject_requests (0.75)")]
    [InlineData("limits: { overload: { recovery_margin: 0.6 } }", "1:40 limits.overload.recovery_margin: recovery_margin (0.6) must be below stop_buffering (0.6), or protections would never turn off")]
    [InlineData("limits: { overload: { check_interval: 0s } }", "1:39 limits.overload.check_interval: must be greater than zero")]
    [InlineData("limits: { overload: { at: 0.5 } }", "1:23 limits.overload.at: unknown key 'at'; allowed keys: enabled, check_interval, stop_buffering, reject_requests, stop_accepting, recovery_margin")]
    public void Parse_InvalidTopLevelValue_ReportsLocation(string line, string expected) =>
        AssertErrors(Format(TopLevelTemplate, line), $"{File}:{expected}");

    [Theory]
    [InlineData("max_attempts: 0", "6:19 policies.p.max_attempts: must be at least 1, got 0")]
    [InlineData("max_attempts: three", "6:19 policies.p.max_attempts: expected an integer, got 'three'")]
    [InlineData("max_attempts: 2.5", "6:19 policies.p.max_attempts: expected an integer, got '2.5'")]
    [InlineData("max_attempts: \"3\"", "6:19 policies.p.max_attempts: expected an integer, got the string '3' (remove the quotes)")]
    [InlineData("max_attempts: 99999999999", "6:19 policies.p.max_attempts: 99999999999 is out of range")]
    [InlineData("max_attempts: [3]", "6:19 policies.p.max_attempts: expected an integer, got a list")]
    [InlineData("max_attempts:", "6:18 policies.p.max_attempts: missing value, expected an integer")]
    [InlineData("backoff: exponential", "6:14 policies.p.backoff: expected a mapping, got 'exponential'")]
    [InlineData("backoff: { base: 50 }", "6:22 policies.p.backoff.base: missing unit (ms, s, m, h); did you mean '50s' or '50ms'?")]
    [InlineData("backoff: { base: -50ms }", "6:22 policies.p.backoff.base: duration '-50ms' must not be negative")]
    [InlineData("backoff: { base: 2s, max: 1s }", "6:31 policies.p.backoff.max: backoff.max (1s) must be at least backoff.base (2s)")]
    [InlineData("backoff: { base: 2s }", "6:22 policies.p.backoff.base: backoff.max (1s) must be at least backoff.base (2s)")]
    [InlineData("backoff: { multiplier: 0.5 }", "6:28 policies.p.backoff.multiplier: must be at least 1, got 0.5")]
    [InlineData("backoff: { jitter_factor: 1.5 }", "6:31 policies.p.backoff.jitter_factor: must be between 0 and 1, got 1.5")]
    [InlineData("backoff: { jitter_factor: -0.1 }", "6:31 policies.p.backoff.jitter_factor: must be between 0 and 1, got -0.1")]
    [InlineData("backoff: { algorithm: exponental }", "6:27 policies.p.backoff.algorithm: unknown algorithm 'exponental' (did you mean 'exponential'?); allowed: constant, linear, exponential, fibonacci, range")]
    [InlineData("backoff: { algorithm: quadratic }", "6:27 policies.p.backoff.algorithm: unknown algorithm 'quadratic'; allowed: constant, linear, exponential, fibonacci, range")]
    [InlineData("backoff: { jitter: random }", "6:24 policies.p.backoff.jitter: unknown jitter 'random'; allowed: none, full, equal, decorrelated")]
    [InlineData("retry_on: { status: [429, 600] }", "6:31 policies.p.retry_on.status[1]: invalid status '600': use a code from 100 to 599 or a class such as '5xx'")]
    [InlineData("retry_on: { status: [99] }", "6:26 policies.p.retry_on.status[0]: invalid status '99': use a code from 100 to 599 or a class such as '5xx'")]
    [InlineData("retry_on: { status: [5xy] }", "6:26 policies.p.retry_on.status[0]: invalid status '5xy': use a code from 100 to 599 or a class such as '5xx'")]
    [InlineData("retry_on: { status: [6xx] }", "6:26 policies.p.retry_on.status[0]: invalid status '6xx': use a code from 100 to 599 or a class such as '5xx'")]
    [InlineData("retry_on: { status: [503, 503] }", "6:31 policies.p.retry_on.status[1]: duplicate status '503'")]
    [InlineData("retry_on: { status: 503 }", "6:25 policies.p.retry_on.status: expected a list, got '503'")]
    [InlineData("retry_on: { errors: [timeout] }", "6:26 policies.p.retry_on.errors[0]: unknown error 'timeout'; allowed: connect-failure, reset, per-try-timeout, tls")]
    [InlineData("retry_on: { errors: [connect_failure] }", "6:26 policies.p.retry_on.errors[0]: unknown error 'connect_failure' (did you mean 'connect-failure'?); allowed: connect-failure, reset, per-try-timeout, tls")]
    [InlineData("retry_on: { headers: [{ values: [x] }] }", "6:27 policies.p.retry_on.headers[0].name: missing required key 'name'")]
    [InlineData("retry_on: { grpc: [unavailible] }", "6:24 policies.p.retry_on.grpc[0]: unknown gRPC status 'unavailible' (did you mean 'unavailable'?); use a number from 0 to 16 or one of: ok, cancelled, unknown, invalid-argument, deadline-exceeded, not-found, already-exists, permission-denied, resource-exhausted, failed-precondition, aborted, out-of-range, unimplemented, internal, unavailable, data-loss, unauthenticated")]
    [InlineData("retry_on: { grpc: [resource_exhausted] }", "6:24 policies.p.retry_on.grpc[0]: unknown gRPC status 'resource_exhausted' (did you mean 'resource-exhausted'?); use a number from 0 to 16 or one of: ok, cancelled, unknown, invalid-argument, deadline-exceeded, not-found, already-exists, permission-denied, resource-exhausted, failed-precondition, aborted, out-of-range, unimplemented, internal, unavailable, data-loss, unauthenticated")]
    [InlineData("retry_on: { grpc: [17] }", "6:24 policies.p.retry_on.grpc[0]: unknown gRPC status '17'; use a number from 0 to 16 or one of: ok, cancelled, unknown, invalid-argument, deadline-exceeded, not-found, already-exists, permission-denied, resource-exhausted, failed-precondition, aborted, out-of-range, unimplemented, internal, unavailable, data-loss, unauthenticated")]
    [InlineData("retry_on: { grpc: [ok] }", "6:24 policies.p.retry_on.grpc[0]: gRPC status 'ok' is a success and cannot be retried")]
    [InlineData("retry_on: { grpc: [unavailable, 14] }", "6:37 policies.p.retry_on.grpc[1]: duplicate gRPC status '14'")]
    [InlineData("retry_on: { grpc: unavailable }", "6:23 policies.p.retry_on.grpc: expected a list, got 'unavailable'")]
    [InlineData("methods: GET", "6:14 policies.p.methods: expected 'idempotent' or a list of methods, got 'GET'")]
    [InlineData("methods: [GET, FETCH]", "6:20 policies.p.methods[1]: unknown method 'FETCH'; allowed: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH")]
    [InlineData("methods: [GTE]", "6:15 policies.p.methods[0]: unknown method 'GTE' (did you mean 'GET'?); allowed: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH")]
    [InlineData("methods: [GET, get]", "6:20 policies.p.methods[1]: duplicate method 'GET'")]
    [InlineData("per_try_timeout: 0s", "6:22 policies.p.per_try_timeout: must be greater than zero")]
    [InlineData("timeout: 15", "6:14 policies.p.timeout: missing unit (ms, s, m, h); did you mean '15s' or '15ms'?")]
    [InlineData("per_try_timeout: 2000", "6:22 policies.p.per_try_timeout: missing unit (ms, s, m, h); did you mean '2000ms'?")]
    [InlineData("timeout: 2 seconds", "6:14 policies.p.timeout: duration '2 seconds' must not contain whitespace; did you mean '2s'?")]
    [InlineData("timeout: 500 ms", "6:14 policies.p.timeout: duration '500 ms' must not contain whitespace; did you mean '500ms'?")]
    [InlineData("timeout: 2secs", "6:14 policies.p.timeout: unknown duration unit 'secs' (allowed: ms, s, m, h); did you mean '2s'?")]
    [InlineData("timeout: 1.5 Minutes", "6:14 policies.p.timeout: duration '1.5 Minutes' must not contain whitespace; did you mean '1.5m'?")]
    [InlineData("timeout: 2 fortnights", "6:14 policies.p.timeout: duration '2 fortnights' must not contain whitespace")]
    [InlineData("{ per_try_timeout: 5s, timeout: 2s }", "6:24 policies.p.per_try_timeout: per_try_timeout (5s) must not exceed timeout (2s)")]
    [InlineData("retry_after: { honor: yes }", "6:27 policies.p.retry_after.honor: expected true or false, got 'yes'")]
    [InlineData("retry_after: { max: 0ms }", "6:25 policies.p.retry_after.max: must be greater than zero")]
    [InlineData("buffer_limit: 64KB", "6:19 policies.p.buffer_limit: ambiguous size unit 'KB': use KiB (1024-based) or write the bytes with 'B'")]
    [InlineData("buffer_limit: 1GiB", "6:19 policies.p.buffer_limit: buffer_limit (1GiB) must not exceed limits.max_buffered_bytes (64MiB, derived from 1 GiB available)")]
    [InlineData("budget: { ratio: 1.2 }", "6:22 policies.p.budget.ratio: must be between 0 and 1, got 1.2")]
    [InlineData("budget: { ratio: -0.2 }", "6:22 policies.p.budget.ratio: must be between 0 and 1, got -0.2")]
    [InlineData("budget: { min_per_second: -1 }", "6:31 policies.p.budget.min_per_second: must be at least 0, got -1")]
    [InlineData("budget: { window: 0s }", "6:23 policies.p.budget.window: must be greater than zero")]
    [InlineData("budget: disabled", "6:13 policies.p.budget: expected a mapping or 'off', got 'disabled'")]
    [InlineData("max_concurrent_retries: 0", "6:29 policies.p.max_concurrent_retries: must be at least 1, got 0")]
    [InlineData("allow_overrides: 1", "6:22 policies.p.allow_overrides: expected true or false, got '1'")]
    [InlineData("retry_until: [{}]", "6:19 policies.p.retry_until[0]: a condition needs at least one of: status, header, json")]
    [InlineData("retry_until: [{ json: { path: state } }]", "6:27 policies.p.retry_until[0].json.equals: missing required key 'equals'")]
    [InlineData("retry_until: [{ json: { path: a..b, equals: x } }]", "6:35 policies.p.retry_until[0].json.path: invalid JSON path 'a..b': use dotted field names such as 'data.state'")]
    [InlineData("retry_until: [{ status: [700] }]", "6:30 policies.p.retry_until[0].status[0]: invalid status '700': use a code from 100 to 599 or a class such as '5xx'")]
    [InlineData("retry_until: [{ header: { name: \"a b\" } }]", "6:37 policies.p.retry_until[0].header.name: invalid header name 'a b': use letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 token)")]
    [InlineData("hedge: { max_extra: 1 }", "6:12 policies.p.hedge.delay: missing required key 'delay'")]
    [InlineData("hedge: { delay: 100ms, max_extra: 0 }", "6:39 policies.p.hedge.max_extra: must be at least 1, got 0")]
    public void Parse_InvalidPolicyValue_ReportsLocation(string line, string expected) =>
        AssertErrors(Format(PolicyTemplate, line), $"{File}:{expected}");

    [Theory]
    [InlineData("load_balancing: roundrobin", "4:21 clusters.orders.load_balancing: unknown load-balancing policy 'roundrobin' (did you mean 'RoundRobin'?); allowed: PowerOfTwoChoices, RoundRobin, Random, LeastRequests, FirstAlphabetical")]
    [InlineData("health: { passive: maybe }", "4:24 clusters.orders.health.passive: expected true or false, got 'maybe'")]
    [InlineData("health: { reactivation_period: 0s }", "4:36 clusters.orders.health.reactivation_period: must be greater than zero")]
    [InlineData("health: { active: { path: healthz } }", "4:31 clusters.orders.health.active.path: must start with '/', got 'healthz'")]
    [InlineData("health: { active: { interval: 10 } }", "4:35 clusters.orders.health.active.interval: missing unit (ms, s, m, h); did you mean '10s' or '10ms'?")]
    [InlineData("health: { activ: {} }", "4:15 clusters.orders.health.activ: unknown key 'activ' (did you mean 'active'?); allowed keys: passive, reactivation_period, active")]
    [InlineData("circuit_breaker: { failure_ratio: 0 }", "4:39 clusters.orders.circuit_breaker.failure_ratio: must be greater than 0 and at most 1, got 0")]
    [InlineData("circuit_breaker: { minimum_requests: 0 }", "4:42 clusters.orders.circuit_breaker.minimum_requests: must be at least 1, got 0")]
    [InlineData("circuit_breaker: { break_duration: -1s }", "4:40 clusters.orders.circuit_breaker.break_duration: duration '-1s' must not be negative")]
    [InlineData("circuit_breaker: true", "4:22 clusters.orders.circuit_breaker: expected a mapping, got 'true'")]
    public void Parse_InvalidClusterValue_ReportsLocation(string line, string expected) =>
        AssertErrors(Format(ClusterTemplate, line), $"{File}:{expected}");

    [Theory]
    [InlineData("match: { path: orders }", "7:20 routes[0].match.path: must start with '/', got 'orders'")]
    [InlineData("match: { methods: [GET, FETCH] }", "7:29 routes[0].match.methods[1]: unknown method 'FETCH'; allowed: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH")]
    [InlineData("match: { methods: [GET, GET] }", "7:29 routes[0].match.methods[1]: duplicate method 'GET'")]
    [InlineData("match: { methods: GET }", "7:23 routes[0].match.methods: expected a list, got 'GET'")]
    [InlineData("match: { hosts: [\"bad host\"] }", "7:22 routes[0].match.hosts[0]: invalid host 'bad host': use a host name with an optional port and leading '*.', e.g. 'api.example.com' or '*.example.com:8080'")]
    [InlineData("match: { headers: [{ name: x, mode: exactly, values: [a] }] }", "7:41 routes[0].match.headers[0].mode: unknown mode 'exactly' (did you mean 'exact'?); allowed: exact, prefix, contains, exists, not-exists")]
    [InlineData("match: { headers: [{ name: x, mode: exists, values: [a] }] }", "7:57 routes[0].match.headers[0].values: mode 'exists' takes no values")]
    [InlineData("match: { headers: [{ name: x }] }", "7:24 routes[0].match.headers[0].values: mode 'exact' needs at least one value (use mode 'exists' to match any value)")]
    [InlineData("match: { headers: [{ name: x, mode: prefix, values: [] }] }", "7:57 routes[0].match.headers[0].values: mode 'prefix' needs at least one value (use mode 'exists' to match any value)")]
    [InlineData("match: { path: /x, verbs: [GET] }", "7:24 routes[0].match.verbs: unknown key 'verbs'; allowed keys: path, methods, hosts, headers")]
    [InlineData("policy: [a]", "7:13 routes[0].policy: expected a string, got a list")]
    [InlineData("retries: 3", "7:5 routes[0].retries: unknown key 'retries'; allowed keys: name, match, cluster, policy")]
    public void Parse_InvalidRouteValue_ReportsLocation(string line, string expected) =>
        AssertErrors(Format(RouteTemplate, line), $"{File}:{expected}");

    [Fact]
    public void Parse_InvalidNames_AreRejected()
    {
        var yaml = """
            clusters:
              "orders service":
                destinations: [http://orders:8080]
              orders:
                destinations: [http://orders:8080]
            routes:
              - name: "orders read"
                cluster: orders
            """;

        AssertErrors(
            yaml,
            "config/sidecar.yaml:2:3 clusters.orders service: invalid cluster name 'orders service': use 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit",
            "config/sidecar.yaml:7:11 routes[0].name: invalid route name 'orders read': use 1-128 letters, digits, '-', '_' or '.', starting with a letter or digit");
    }

    [Fact]
    public void Parse_SeveralErrors_ReportsAllInFileOrder()
    {
        var yaml = """
            listen:
              proxy: http://127.0.0.1
            clusters:
              orders:
                destinations: [http://orders:8080]
                load_balancer: RoundRobin
            policies:
              default:
                max_attempts: 0
                backoff: { base: 500ms, max: 100ms }
                retry_on: { status: [429, 5xx, 700] }
                timeout: 2s
                per_try_timeout: 3s
            routes:
              - name: read
                match: { path: /orders, methods: [GET, FETCH] }
                cluster: orders
                policy: defualt
              - name: read
                cluster: payments
            limits:
              max_buffered_bytes: 8MB
            """;

        var result = SidecarConfigLoader.Parse(yaml, File);

        Assert.False(result.Succeeded);
        Assert.Null(result.Config);
        string[] expected =
        [
            "config/sidecar.yaml:2:10 listen.proxy: listen address 'http://127.0.0.1' needs an explicit port; expected http(s)://host:port, e.g. 'http://127.0.0.1:8080'",
            "config/sidecar.yaml:6:5 clusters.orders.load_balancer: unknown key 'load_balancer' (did you mean 'load_balancing'?); allowed keys: destinations, load_balancing, protocol, health, circuit_breaker, tls",
            "config/sidecar.yaml:9:19 policies.default.max_attempts: must be at least 1, got 0",
            "config/sidecar.yaml:10:34 policies.default.backoff.max: backoff.max (100ms) must be at least backoff.base (500ms)",
            "config/sidecar.yaml:11:36 policies.default.retry_on.status[2]: invalid status '700': use a code from 100 to 599 or a class such as '5xx'",
            "config/sidecar.yaml:13:22 policies.default.per_try_timeout: per_try_timeout (3s) must not exceed timeout (2s)",
            "config/sidecar.yaml:16:44 routes[0].match.methods[1]: unknown method 'FETCH'; allowed: GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH",
            "config/sidecar.yaml:18:13 routes[0].policy: unknown policy 'defualt' (did you mean 'default'?); declared: default",
            "config/sidecar.yaml:19:11 routes[1].name: duplicate route name 'read' (first defined at line 15)",
            "config/sidecar.yaml:20:14 routes[1].cluster: unknown cluster 'payments'; declared: orders",
            "config/sidecar.yaml:22:23 limits.max_buffered_bytes: ambiguous size unit 'MB': use MiB (1024-based) or write the bytes with 'B'",
        ];

        Assert.Equal(string.Join(Environment.NewLine, expected), string.Join(Environment.NewLine, result.Errors));
    }

    [Fact]
    public void Parse_Errors_CarryStructuredLocation()
    {
        var error = Assert.Single(SidecarConfigLoader.Parse(Format(RouteTemplate, "policy: fast"), File).Errors);

        Assert.Equal(new ConfigError(File, 7, 13, "routes[0].policy", "unknown policy 'fast'; no policy is declared"), error);
    }

    private static string Format(string template, string line) => template.Replace("{0}", line, StringComparison.Ordinal);

    [Fact]
    public void Parse_RetryOnGrpc_AcceptsNamesAndNumbers()
    {
        var result = SidecarConfigLoader.Parse(Format(PolicyTemplate, "retry_on: { grpc: [unavailable, 8, deadline-exceeded] }"), File, MemoryBudget.Of(1L << 30));

        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        Assert.Equal([14, 8, 4], result.Config!.Policies["p"].RetryOn.Grpc);
    }

    private static void AssertErrors(string yaml, params string[] expected)
    {
        // Limits absent from the file are derived from memory: a fixed budget keeps the messages the same on every machine.
        var result = SidecarConfigLoader.Parse(yaml, File, MemoryBudget.Of(1L << 30));

        Assert.Null(result.Config);
        Assert.False(result.Succeeded);
        // Joined so that a failure shows every message in full.
        Assert.Equal(string.Join(Environment.NewLine, expected), string.Join(Environment.NewLine, result.Errors));
    }
}
