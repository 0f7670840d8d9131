using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

public sealed class MemoryBudgetTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    // 64, 128, 256 MiB pods: the runtime caps the heap at 75% of the limit.
    [InlineData(48 * MiB, 12 * MiB, 128, 48)]
    [InlineData(96 * MiB, 24 * MiB, 256, 96)]
    [InlineData(192 * MiB, 48 * MiB, 512, 192)]
    // Past 256 MiB of heap the replay buffers stop growing; concurrency keeps growing with memory.
    [InlineData(1024 * MiB, 64 * MiB, 2730, 1024)]
    // The smallest heap the runtime allows still serves a few dozen requests.
    [InlineData(20 * MiB, 5 * MiB, 53, MemoryBudget.MinConcurrentRequests)]
    [InlineData(4 * MiB, 1 * MiB, MemoryBudget.MinConcurrentRequests, MemoryBudget.MinConcurrentRequests)]
    public void Derived_FollowsAvailableMemory(long available, long maxBufferedBytes, int maxConcurrentRequests, int maxPendingConnections)
    {
        var budget = MemoryBudget.Of(available);

        Assert.Equal(maxBufferedBytes, budget.MaxBufferedBytes);
        Assert.Equal(maxConcurrentRequests, budget.MaxConcurrentRequests);
        Assert.Equal(maxPendingConnections, budget.MaxPendingConnections);
    }

    [Fact]
    public void Derived_WorstCaseOfBothShares_StaysUnderThreeQuartersOfTheHeap()
    {
        var budget = MemoryBudget.Of(96 * MiB);

        var worstCase = budget.MaxBufferedBytes + (budget.MaxConcurrentRequests * MemoryBudget.RequestAllowanceBytes);

        Assert.True(worstCase <= 96 * MiB * 3 / 4, $"{worstCase} bytes");
    }

    [Theory]
    // 128 MiB, 256 MiB and 1 GiB pods, native build: the GC treats 90% of the limit as full, 32 MiB is outside the heap.
    [InlineData(96, 128)]
    [InlineData(192, 256)]
    [InlineData(768, 1024)]
    public void Derived_FullHouse_StaysUnderRejectRequests(long heapLimitMiB, long memoryLimitMiB)
    {
        var threshold = memoryLimitMiB * MiB * 9 / 10;
        var outside = 32 * MiB;
        var budget = MemoryBudget.For(heapLimitMiB * MiB, memoryLimitMiB * MiB, threshold, outside);

        // Every slot in flight at its allowance (its replay copy included), every pending connection holding its buffer.
        var fullHouse = outside + (budget.MaxConcurrentRequests * MemoryBudget.RequestAllowanceBytes)
            + (budget.MaxPendingConnections * (long)MemoryBudget.ConnectionBufferBytes);

        Assert.True(fullHouse < threshold * ConfigDefaults.OverloadRejectRequests, $"{fullHouse / (double)MiB:0.#} MiB of {threshold / (double)MiB:0.#} MiB");
    }

    [Fact]
    public void DerivedLabel_SaysHowMuchMemory()
    {
        Assert.Equal("derived from 96 MiB available", MemoryBudget.Of(96 * MiB).DerivedLabel);
        Assert.Equal("derived from 1.5 GiB available", MemoryBudget.Of(1536 * MiB).DerivedLabel);
    }

    [Fact]
    public void Current_ReadsTheGc()
    {
        var current = MemoryBudget.Current;

        // At most the GC's heap limit; less only inside a container limit that cannot hold both it and the outside.
        Assert.InRange(current.AvailableBytes, 0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        Assert.NotEmpty(current.Source);
    }

    [Fact]
    public void For_SmallPod_LeavesTheHeapWhatTheLimitHasOnceTheOutsideIsPaid()
    {
        // A 64 MiB pod: the GC caps the heap at 48 MiB and treats 57.6 MiB (90%) as full; 32 MiB is outside the heap.
        var budget = MemoryBudget.For(48 * MiB, 64 * MiB, 576 * MiB / 10, 32 * MiB);

        Assert.Equal(576 * MiB / 10 - 32 * MiB, budget.AvailableBytes);
        Assert.Equal("GC heap limit 48 MiB; memory limit 64 MiB, 32 MiB of it outside the heap", budget.Source);
        Assert.Equal(68, budget.MaxConcurrentRequests);
        Assert.Equal(6 * MiB, budget.MaxBufferedBytes);
        Assert.False(budget.TooSmall);
    }

    [Fact]
    public void For_LargePod_KeepsTheGcHeapLimit()
    {
        var budget = MemoryBudget.For(192 * MiB, 256 * MiB, 2304 * MiB / 10, 32 * MiB);

        Assert.Equal(192 * MiB, budget.AvailableBytes);
        Assert.Equal("GC heap limit 192 MiB; memory limit 256 MiB", budget.Source);
    }

    [Fact]
    public void For_PodSmallerThanTheOutside_GetsTheMinimumLimits()
    {
        var budget = MemoryBudget.For(48 * MiB, 64 * MiB, 576 * MiB / 10, 68 * MiB);

        Assert.Equal(0, budget.AvailableBytes);
        Assert.True(budget.TooSmall);
        Assert.Equal(MemoryBudget.MinConcurrentRequests, budget.MaxConcurrentRequests);
        Assert.Equal(MemoryBudget.MinConcurrentRequests, budget.MaxPendingConnections);
    }

    [Fact]
    public void For_NoHeapLimit_IsThePhysicalMemory()
    {
        var budget = MemoryBudget.For(24L << 30, 0, 0, 32 * MiB);

        Assert.Equal(24L << 30, budget.AvailableBytes);
        Assert.Equal("physical memory", budget.Source);
    }

    [Fact]
    public void Parse_NoLimits_DerivesFromTheBudget()
    {
        var limits = Parse(string.Empty, MemoryBudget.Of(96 * MiB));

        Assert.Equal(24 * MiB, limits.MaxBufferedBytes);
        Assert.Equal(256, limits.MaxConcurrentRequests);
        Assert.Equal(96, limits.MaxPendingConnections);
        Assert.False(limits.MaxBufferedBytesConfigured);
        Assert.False(limits.MaxPendingConnectionsConfigured);
        Assert.False(limits.MaxConcurrentRequestsConfigured);
        Assert.Equal("derived from 96 MiB available", limits.Origin(limits.MaxBufferedBytesConfigured));
    }

    [Fact]
    public void Parse_OtherLimitsOnly_StillDerivesTheMemoryBoundOnes()
    {
        var limits = Parse("limits: { drain_delay: 1s }", MemoryBudget.Of(48 * MiB));

        Assert.Equal(12 * MiB, limits.MaxBufferedBytes);
        Assert.Equal(128, limits.MaxConcurrentRequests);
        Assert.Equal(48, limits.MaxPendingConnections);
        Assert.Equal(TimeSpan.FromSeconds(1), limits.DrainDelay);
    }

    [Fact]
    public void Parse_LimitsSet_WinOverTheBudgetAndSayConfig()
    {
        var limits = Parse("limits: { max_buffered_bytes: 8MiB, max_concurrent_requests: 50, max_pending_connections: 70 }", MemoryBudget.Of(96 * MiB));

        Assert.Equal(8 * MiB, limits.MaxBufferedBytes);
        Assert.Equal(50, limits.MaxConcurrentRequests);
        Assert.Equal(70, limits.MaxPendingConnections);
        Assert.Equal("config", limits.Origin(limits.MaxPendingConnectionsConfigured));
        Assert.Equal("config", limits.Origin(limits.MaxBufferedBytesConfigured));
        Assert.Equal("config", limits.Origin(limits.MaxConcurrentRequestsConfigured));
    }

    [Fact]
    public void Parse_BufferLimitAboveTheDerivedCap_NamesWhereTheCapCameFrom()
    {
        const string Yaml = """
            clusters:
              c: { destinations: [http://c:80] }
            policies:
              p: { buffer_limit: 32MiB }
            routes:
              - { name: r, cluster: c, policy: p }
            """;

        var error = Assert.Single(SidecarConfigLoader.Parse(Yaml, "f.yaml", MemoryBudget.Of(96 * MiB)).Errors);

        Assert.Equal("f.yaml:4:22 policies.p.buffer_limit: buffer_limit (32MiB) must not exceed limits.max_buffered_bytes (24MiB, derived from 96 MiB available)", error.ToString());
    }

    private static LimitsOptions Parse(string limits, MemoryBudget memory)
    {
        var yaml = $$"""
            clusters:
              c: { destinations: [http://c:80] }
            routes:
              - { name: r, cluster: c }
            {{limits}}
            """;
        var result = SidecarConfigLoader.Parse(yaml, "f.yaml", memory);
        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Errors));
        return result.Config!.Limits;
    }
}
