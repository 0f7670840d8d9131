using BenchmarkDotNet.Attributes;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Benchmarks;

/// <summary><see cref="RetryPlan.IsRetryableStatus"/>: the decision on every attempt's status code.</summary>
public class RetryPlanBenchmarks
{
    private RetryPlan _plan = null!;

    [Params(200, 503)]
    public int Status { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var options = new RetryPolicyOptions
        {
            Name = "default",
            RetryOn = new RetryOnOptions { Status = [new StatusMatcher(429, 429), new StatusMatcher(500, 599)] },
        };
        _plan = new RetryPlan(options, new ClusterRetryState("bench", TimeProvider.System));
    }

    [Benchmark]
    public bool IsRetryableStatus() => _plan.IsRetryableStatus(Status);
}
