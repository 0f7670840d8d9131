using BenchmarkDotNet.Attributes;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Benchmarks;

/// <summary><see cref="BackoffSchedule.NextDelay"/>: the delay computed before every retry.</summary>
public class BackoffScheduleBenchmarks
{
    private BackoffSchedule _schedule = null!;

    // Sidecar's enums are internal, so the parameters are their names.
    [Params("Exponential", "Range")]
    public string Algorithm { get; set; } = "Exponential";

    [Params("Full", "Decorrelated")]
    public string Jitter { get; set; } = "Full";

    [GlobalSetup]
    public void Setup() => _schedule = new BackoffSchedule(
        new BackoffOptions { Algorithm = Enum.Parse<BackoffAlgorithm>(Algorithm), Jitter = Enum.Parse<JitterMode>(Jitter), Base = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromSeconds(1) },
        maxAttempts: 5);

    [Benchmark]
    public TimeSpan NextDelay() => _schedule.NextDelay(3, TimeSpan.FromMilliseconds(120), 0.37);
}
