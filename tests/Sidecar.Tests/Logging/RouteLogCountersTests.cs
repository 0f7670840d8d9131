using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Logging;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Logging;

public sealed class RouteLogCountersTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void Collect_NothingCounted_ReturnsNull()
    {
        Assert.Null(Counters().Collect(Interval));
    }

    [Fact]
    public void Collect_RetriesOfSeveralReasons_NamedReasonsThenStatusesInOrder()
    {
        var counters = Counters();
        for (var i = 0; i < 3; i++)
        {
            counters.Retried("503");
        }

        counters.Retried("429");
        counters.Retried(RetryReason.Reset);
        counters.Retried(RetryReason.ConnectFailure);
        counters.Retried(RetryReason.ConnectFailure);

        var summary = counters.Collect(Interval)!;

        Assert.Equal(7, summary.Retries);
        Assert.Equal("connect_failure=2,reset=1,429=1,503=3", summary.RetryReasons);
        Assert.Equal(RouteLogSummary.NoReasons, summary.SkipReasons);
        Assert.Equal(("r", "c", Interval), (summary.Route, summary.Cluster, summary.Interval));
    }

    [Fact]
    public void Collect_EveryNamedReason_ReadsBackUnderItsOwnName()
    {
        var counters = Counters();
        string[] named = [RetryReason.ConnectFailure, RetryReason.Reset, RetryReason.PerTryTimeout, RetryReason.Validation, RetryReason.Header, RetryReason.Hedge];
        foreach (var reason in named)
        {
            counters.Retried(reason);
        }

        Assert.Equal(string.Join(',', named.Select(r => r + "=1")), counters.Collect(Interval)!.RetryReasons);
    }

    [Fact]
    public void Collect_GrpcStatusRetries_ReadBackUnderTheirOwnNames()
    {
        var counters = Counters();

        counters.Retried(Sidecar.Grpc.GrpcStatus.RetryReason(Sidecar.Grpc.GrpcStatus.Unavailable));
        counters.Retried(Sidecar.Grpc.GrpcStatus.RetryReason(Sidecar.Grpc.GrpcStatus.Unavailable));
        counters.Retried(Sidecar.Grpc.GrpcStatus.RetryReason(Sidecar.Grpc.GrpcStatus.ResourceExhausted));

        Assert.Equal("grpc_resource_exhausted=1,grpc_unavailable=2", counters.Collect(Interval)!.RetryReasons);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("999")]
    [InlineData("050")]
    [InlineData("")]
    public void Retried_ReasonOutsideTheClosedSet_CountedAsOther(string reason)
    {
        var counters = Counters();

        counters.Retried(reason);

        Assert.Equal("other=1", counters.Collect(Interval)!.RetryReasons);
    }

    [Fact]
    public void Skipped_BudgetAndOtherReasons_BudgetCountedApartAndTellsTheCluster()
    {
        var counters = Counters();

        counters.Skipped(RetrySkipReason.Budget);
        counters.Skipped(RetrySkipReason.Budget);
        counters.Skipped(RetrySkipReason.Deadline);
        counters.Skipped(RetrySkipReason.Concurrency);
        counters.Skipped(RetrySkipReason.Deadline);

        var summary = counters.Collect(Interval)!;
        Assert.Equal(2, summary.BudgetRefused);
        Assert.Equal(3, summary.Skipped);
        Assert.Equal("concurrency=1,deadline=2", summary.SkipReasons);
        Assert.True(counters.Cluster.BudgetExhausted);
    }

    [Fact]
    public void Collect_AfterCollect_StartsFromZero()
    {
        var counters = Counters();
        counters.Retried("503");
        counters.Exhausted();
        counters.NoResponse();

        var first = counters.Collect(Interval)!;

        Assert.Equal((1, 1, 1, 2L), (first.Retries, first.Exhausted, first.NoResponse, first.Failed));
        Assert.Null(counters.Collect(Interval));
    }

    [Fact]
    public void Collect_WhileThreadsCount_LosesNothing()
    {
        var counters = Counters();
        const int PerThread = 50_000;
        long collected = 0;
        using var done = new CountdownEvent(4);
        for (var t = 0; t < 4; t++)
        {
            new Thread(() =>
            {
                for (var i = 0; i < PerThread; i++)
                {
                    counters.Retried("503");
                }

                done.Signal();
            }).Start();
        }

        while (!done.IsSet)
        {
            collected += counters.Collect(Interval)?.Retries ?? 0;
        }

        collected += counters.Collect(Interval)?.Retries ?? 0;
        Assert.Equal(4 * PerThread, collected);
    }

    [Fact]
    public void Counting_SteadyState_AllocatesNothing()
    {
        var counters = Counters();
        void Run()
        {
            counters.Retried("503");
            counters.Retried(RetryReason.PerTryTimeout);
            counters.Skipped(RetrySkipReason.Budget);
            counters.Skipped(RetrySkipReason.Deadline);
            counters.Exhausted();
            counters.NoResponse();
        }

        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static RouteLogCounters Counters() =>
        new("r", new ClusterLogState("c", NullLogger.Instance, new FakeTimeProvider()));
}
