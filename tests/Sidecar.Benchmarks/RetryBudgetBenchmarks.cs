using BenchmarkDotNet.Attributes;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Benchmarks;

/// <summary><see cref="RetryBudget"/>: counted once per request with a policy, and once per retry.</summary>
public class RetryBudgetBenchmarks
{
    private readonly BudgetOptions _options = new();
    private RetryBudget _budget = null!;

    [GlobalSetup]
    public void Setup() => _budget = new RetryBudget(TimeProvider.System);

    [Benchmark]
    public void RecordRequest() => _budget.RecordRequest();

    /// <summary>One request and one retry: the budget refuses most of them after the first window, as under a storm.</summary>
    [Benchmark]
    public bool RecordRequestAndTryAcquireRetry()
    {
        _budget.RecordRequest();
        return _budget.TryAcquireRetry(_options);
    }
}
