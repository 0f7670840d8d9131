using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Http;
using Sidecar.Policies;
using Sidecar.Retries;

namespace Sidecar.Tests.Retries;

/// <summary>
/// Everything in <c>Retries/</c> runs per retried request: none of it may allocate, apart from the one small object
/// .NET's HTTP-date parsing needs.
/// </summary>
public sealed class HotPathAllocationTests
{
    [Fact]
    public void RetryLogic_SteadyState_AllocatesNothing()
    {
        var schedule = new BackoffSchedule(new BackoffOptions { Jitter = JitterMode.Decorrelated }, 5);
        var exponential = new BackoffSchedule(new BackoffOptions { Jitter = JitterMode.Full }, 5);
        var range = new BackoffSchedule(new BackoffOptions { Algorithm = BackoffAlgorithm.Range, Jitter = JitterMode.Equal }, 5);
        var fibonacci = new BackoffSchedule(new BackoffOptions { Algorithm = BackoffAlgorithm.Fibonacci }, 5);
        var time = new FakeTimeProvider();
        var budget = new RetryBudget(time);
        var budgetOptions = new BudgetOptions();
        var limiter = new ConcurrencyLimiter(10);
        var retryAfter = new StringValues("120");
        var now = new DateTimeOffset(1994, 11, 6, 8, 49, 0, TimeSpan.Zero);
        IRandomSource random = SharedRandomSource.Instance;

        void Run()
        {
            for (var retry = 1; retry < 6; retry++)
            {
                _ = schedule.NextDelay(retry, TimeSpan.FromMilliseconds(70), random.NextDouble());
                _ = exponential.NextDelay(retry, TimeSpan.Zero, random.NextDouble());
                _ = range.NextDelay(retry, TimeSpan.Zero, random.NextDouble());
                _ = fibonacci.BaseDelay(retry);
                _ = schedule.Bounds(retry);
            }

            budget.RecordRequest();
            _ = budget.TryAcquireRetry(budgetOptions);
            if (limiter.TryEnter())
            {
                limiter.Exit();
            }

            _ = RetryAfterParser.TryParse(retryAfter, now, out _);
            _ = RetryAfterParser.TryParse("99999999999999999999", now, out _);
            _ = PushbackParser.TryParse("-1", out _, out _);
            _ = PushbackParser.TryParseGrpc("800", out _);
            _ = Sidecar.Grpc.GrpcStatus.TryParseHeader("14", out _);
            _ = Sidecar.Grpc.GrpcStatus.Label(14);
            _ = Sidecar.Grpc.GrpcStatus.RetryReason(8);
            _ = DeadlineHeaderParser.TryParseTimeoutMs("1500", out _);
            _ = DeadlineHeaderParser.TryParseGrpcTimeout("100m", out _);
            _ = StatusClass.Of(503);
            _ = Sidecar.Telemetry.HttpMethodLabel.Of("GET");
            _ = Sidecar.Telemetry.HttpMethodLabel.Of("post");
            _ = Sidecar.Telemetry.HttpMethodLabel.Of("HOSTILE-METHOD-OF-ANY-LENGTH");
        }

        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>
    /// An HTTP-date in <c>Retry-After</c> is read by .NET's <c>RetryConditionHeaderValue</c>, which allocates that one
    /// small object per parse (40 bytes on .NET 10), nothing per character; delay-seconds allocate nothing (above).
    /// </summary>
    [Theory]
    [InlineData("Sun, 06 Nov 1994 08:49:37 GMT")]
    [InlineData("Sunday, 06-Nov-94 08:49:37 GMT")]
    [InlineData("Sun Nov  6 08:49:37 1994")]
    public void RetryAfterHttpDate_SteadyState_AllocatesOneSmallObject(string value)
    {
        var now = new DateTimeOffset(1994, 11, 6, 8, 49, 0, TimeSpan.Zero);
        Assert.True(RetryAfterParser.TryParse(value, now, out _));

        const int Calls = 1000;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Calls; i++)
        {
            _ = RetryAfterParser.TryParse(value, now, out _);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)Calls;
        Assert.InRange(perCall, 0, 48);
    }
}
