using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Sidecar.Overload;

/// <summary>
/// Kestrel's buffer pool for the proxy's connections (4 KiB pinned blocks, as Kestrel's own), with one difference: the
/// heap trimmer can empty it. Kestrel's pool gives back 5% of its idle blocks every 10 s, so after a burst of 768
/// uploads it still held 10 MiB a minute later; emptied when the proxy is idle, those blocks go at the next collection.
/// </summary>
internal sealed class TrimmableMemoryPool : MemoryPool<byte>
{
    /// <summary>Kestrel's block size: one page, so a block never straddles two.</summary>
    public const int BlockSize = 4096;

    private readonly ConcurrentQueue<Block> _blocks = new();
    private volatile bool _disposed;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks pooled and free.</summary>
    public int Count => _blocks.Count;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _blocks.TryDequeue(out var block) ? block : new Block(this);
    }

    /// <summary>Drops every free block; blocks in use come back to the pool as usual.</summary>
    public void Trim()
    {
        while (_blocks.TryDequeue(out _))
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        _disposed = true;
        Trim();
    }

    private void Return(Block block)
    {
        if (!_disposed)
        {
            _blocks.Enqueue(block);
        }
    }

    private sealed class Block : IMemoryOwner<byte>
    {
        private readonly TrimmableMemoryPool _pool;

        public Block(TrimmableMemoryPool pool)
        {
            _pool = pool;
            // Pinned: the socket transport hands these to the OS for its reads and writes.
            var array = GC.AllocateUninitializedArray<byte>(BlockSize, pinned: true);
            Memory = MemoryMarshal.CreateFromPinnedArray(array, 0, array.Length);
        }

        public Memory<byte> Memory { get; }

        public void Dispose() => _pool.Return(this);
    }
}
