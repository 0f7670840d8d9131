using Sidecar.Configuration;
using Xunit.Abstractions;

namespace Sidecar.Tests.Configuration;

public sealed class ScratchTests(ITestOutputHelper output)
{
    [Fact]
    public void Dump()
    {
        var yaml = """
            listen: { proxy: "http://127.0.0.1", admin: http://127.0.0.1:8080/x, extra: 1 }
            clusters:
              orders:
                destinations: [http://orders:8080, "ftp://x", http://orders:8080, orders:80]
                load_balancing: roundrobin
                health: { passive: yes, active: { path: healthz, interval: 0s } }
                circuit_breaker: { failure_ratio: 0, minimum_requests: "3" }
              bad name: { destinations: [] }
              empty:
            policies:
              default:
                max_attemps: 3
                max_attempts: 0
                backoff: { algorithm: exponental, base: 2s, max: 1s, multiplier: 0.5, jitter: fulll, jitter_factor: 2 }
                retry_on: { status: [429, 600, 5xx, 7xx, "503", 429], errors: [connect-failure, timeout], headers: [{ name: "bad header" }] }
                methods: [GET, GTE, get, idempotent]
                per_try_timeout: 5s
                timeout: 2s
                retry_after: { honor: 1, max: 50 }
                buffer_limit: 64KB
                budget: { ratio: 1.5, min_per_second: -1, window: -5s }
                retry_until: [{}, { json: { path: "a..b" } }]
                hedge: { max_extra: 0 }
              other:
                methods: POST
                budget: maybe
                max_attempts: 3
                max_attempts: 4
            routes:
              - name: r1
                match: { path: orders, methods: [GET, GET], hosts: ["bad host"], headers: [{ name: x, mode: exists, values: [a] }, { name: y }, { name: z, mode: exactly }] }
                cluster: order
                policy: fast
              - name: r1
                cluster: orders
              - match: {}
              - 42
            limits: { max_buffered_bytes: 10, drain_timeout: 1d }
            """;
        var result = SidecarConfigLoader.Parse(yaml, "config/t.yaml");
        foreach (var e in result.Errors)
        {
            output.WriteLine(e.ToString());
        }
    }
}
