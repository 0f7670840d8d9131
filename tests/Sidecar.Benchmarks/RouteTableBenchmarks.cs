using BenchmarkDotNet.Attributes;
using Sidecar.Configuration;
using Sidecar.Policies;
using Sidecar.Routing;

namespace Sidecar.Benchmarks;

/// <summary><see cref="RouteTable.Find"/>: the per-request lookup of a route's plan by YARP route id.</summary>
public class RouteTableBenchmarks
{
    private const string Yaml = """
        clusters:
          orders: { destinations: [http://127.0.0.1:8081] }
          users: { destinations: [http://127.0.0.1:8082] }
        policies:
          default: { max_attempts: 3 }
        routes:
          - { name: orders-read, match: { path: "/orders/{**rest}", methods: [GET] }, cluster: orders, policy: default }
          - { name: orders-write, match: { path: "/orders/{**rest}" }, cluster: orders }
          - { name: users, match: { path: "/users/{**rest}" }, cluster: users, policy: default }
          - { name: everything-else, cluster: users }
        """;

    private RouteTable _table = null!;
    private string _routeId = null!;

    [GlobalSetup]
    public void Setup()
    {
        var result = SidecarConfigLoader.Parse(Yaml, "bench.yaml");
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, result.Errors));
        }

        var breakers = new Sidecar.Circuits.CircuitBreakerRegistry(TimeProvider.System);
        var log = new Sidecar.Logging.RetryLog(Microsoft.Extensions.Logging.Abstractions.NullLogger<Sidecar.Logging.RetryLog>.Instance, breakers, TimeProvider.System);
        _table = RouteTable.Build(result.Config!, new ClusterRetryStateRegistry(TimeProvider.System), breakers, log);

        // A distinct string instance, as YARP's RouteConfig holds its own copy: no reference-equality shortcut.
        _routeId = new string("users".AsSpan());
    }

    [Benchmark]
    public bool Find() => _table.Find(_routeId) is not null;
}
