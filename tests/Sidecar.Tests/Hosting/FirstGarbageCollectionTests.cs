using System.Runtime;
using Sidecar.Hosting;

namespace Sidecar.Tests.Hosting;

/// <summary>
/// The GC's no-GC region is one per process, so these run alone: a collection induced by a test running beside them
/// would end the region under them, and a region left on by them would put off other tests' collections.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GcRegionCollection
{
    public const string Name = "GC region";
}

[Collection(GcRegionCollection.Name)]
public sealed class FirstGarbageCollectionTests : IDisposable
{
    [Fact]
    public void Defer_AllocatingLessThanTheBudget_CollectsNothing()
    {
        Assert.True(FirstGarbageCollection.Defer());
        var collections = GC.CollectionCount(0);

        var kept = Allocate(FirstGarbageCollection.Budget / 2);

        Assert.Equal(collections, GC.CollectionCount(0));
        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Defer_AllocatingMoreThanTheBudget_CollectsAndEndsTheRegionByItself()
    {
        Assert.True(FirstGarbageCollection.Defer());
        var collections = GC.CollectionCount(0);

        var kept = Allocate(FirstGarbageCollection.Budget * 2);

        Assert.True(GC.CollectionCount(0) > collections);
        Assert.NotEqual(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        GC.KeepAlive(kept);
    }

    [Fact]
    public void Defer_WhileARegionIsOn_LeavesItOn()
    {
        Assert.True(FirstGarbageCollection.Defer());
        var collections = GC.CollectionCount(0);

        Assert.False(FirstGarbageCollection.Defer());

        Assert.Equal(GCLatencyMode.NoGCRegion, GCSettings.LatencyMode);
        Assert.Equal(collections, GC.CollectionCount(0));
    }

    public void Dispose()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
        {
            GC.EndNoGCRegion();
        }
    }

    /// <summary>Small arrays, kept alive, like a start's containers and metric points.</summary>
    private static List<byte[]> Allocate(long bytes)
    {
        var kept = new List<byte[]>();
        for (long total = 0; total < bytes; total += 8 * 1024)
        {
            kept.Add(new byte[8 * 1024]);
        }

        return kept;
    }
}
