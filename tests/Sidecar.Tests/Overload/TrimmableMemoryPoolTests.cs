using Sidecar.Overload;

namespace Sidecar.Tests.Overload;

public sealed class TrimmableMemoryPoolTests
{
    [Fact]
    public void Rent_AfterReturn_ReusesThePinnedBlock()
    {
        using var pool = new TrimmableMemoryPool();

        var first = pool.Rent();
        var memory = first.Memory;
        first.Dispose();
        using var second = pool.Rent();

        Assert.Equal(TrimmableMemoryPool.BlockSize, memory.Length);
        Assert.True(memory.Span == second.Memory.Span);
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public void Trim_DropsFreeBlocksOnly()
    {
        var factory = new TrimmableMemoryPoolFactory();
        using var pool = (TrimmableMemoryPool)factory.Create();
        using var inUse = pool.Rent();
        pool.Rent().Dispose();
        Assert.Equal(1, pool.Count);

        factory.Trim();

        Assert.Equal(0, pool.Count);
        inUse.Memory.Span.Fill(1);
    }

    [Fact]
    public void Rent_MoreThanABlock_Throws()
    {
        using var pool = new TrimmableMemoryPool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TrimmableMemoryPool.BlockSize + 1));
    }
}
