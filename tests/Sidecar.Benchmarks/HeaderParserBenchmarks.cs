using BenchmarkDotNet.Attributes;
using Sidecar.Retries;

namespace Sidecar.Benchmarks;

/// <summary>The header parsers that run when a retryable response or a caller deadline is seen.</summary>
public class HeaderParserBenchmarks
{
    private static readonly DateTimeOffset Now = new(2025, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Benchmark]
    public TimeSpan RetryAfterSeconds()
    {
        RetryAfterParser.TryParse("120", Now, out var delay);
        return delay;
    }

    [Benchmark]
    public TimeSpan RetryAfterHttpDate()
    {
        RetryAfterParser.TryParse("Sun, 23 Nov 2025 12:00:30 GMT", Now, out var delay);
        return delay;
    }

    [Benchmark]
    public TimeSpan TimeoutMs()
    {
        DeadlineHeaderParser.TryParseTimeoutMs("2500", out var timeout);
        return timeout;
    }

    [Benchmark]
    public TimeSpan GrpcTimeout()
    {
        DeadlineHeaderParser.TryParseGrpcTimeout("1500m", out var timeout);
        return timeout;
    }
}
