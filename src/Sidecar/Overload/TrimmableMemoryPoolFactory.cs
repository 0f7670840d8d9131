using System.Buffers;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;

namespace Sidecar.Overload;

/// <summary>Creates the proxy server's buffer pools (Kestrel asks through <see cref="IMemoryPoolFactory{T}"/>) and trims them all.</summary>
internal sealed class TrimmableMemoryPoolFactory : IMemoryPoolFactory<byte>
{
    private readonly ConcurrentBag<TrimmableMemoryPool> _pools = [];

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null)
    {
        var pool = new TrimmableMemoryPool();
        _pools.Add(pool);
        return pool;
    }

    /// <summary>Drops the free blocks of every pool.</summary>
    public void Trim()
    {
        foreach (var pool in _pools)
        {
            pool.Trim();
        }
    }
}
