using System.Runtime;
using Sidecar.Hosting;

namespace Sidecar.Tests.Hosting;

/// <summary>
/// The GC's no-GC region is one per process, so these run alone: a collection induced by a test running beside them
/// would end the region under them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcRegionCollection
{
    public const string Name = "GC region";
}

[Collection(GcRegionCollection.Name)]
public sealed class StartupNoGcRegionTests
{
    [Fact]
    public void Enter_AllocatingLessThanTheBudget_CollectsNothingUntilDisposed()
    {
        using (var region = StartupNoGcRegion.Enter())
        {
            Assert.True(region.Entered);
            var collections = GC.CollectionCount(0);
            Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
            Allocate(StartupNoGcRegion.Budget / 2);
            Assert.Equal(collections, GC.CollectionCount(0));
        }

        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void Dispose_AfterACollectionEndedTheRegion_DoesNotThrow()
    {
        var region = StartupNoGcRegion.Enter();
        Assert.True(region.Entered);

        GC.Collect();

        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        region.Dispose();
        region.Dispose();
    }

    [Fact]
    public void Dispose_AfterAllocatingMoreThanTheBudget_DoesNotThrow()
    {
        using var region = StartupNoGcRegion.Enter();
        Assert.True(region.Entered);

        Allocate(StartupNoGcRegion.Budget * 2);

        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    [Fact]
    public void Enter_WhileARegionIsOn_LeavesItToItsOwner()
    {
        using var outer = StartupNoGcRegion.Enter();
        Assert.True(outer.Entered);

        using (var inner = StartupNoGcRegion.Enter())
        {
            Assert.False(inner.Entered);
        }

        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
    }

    /// <summary>Small arrays, kept alive until the end, like a start's containers and metric points.</summary>
    private static void Allocate(long bytes)
    {
        var kept = new List<byte[]>();
        for (long total = 0; total < bytes; total += 8 * 1024)
        {
            kept.Add(new byte[8 * 1024]);
        }

        GC.KeepAlive(kept);
    }
}
