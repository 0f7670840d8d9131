using System.Buffers;

namespace Sidecar.Retries;

/// <summary>A read-only stream of already-read bytes (from a pooled buffer it returns when done) followed by the rest of another stream.</summary>
internal sealed class PrefixedStream : Stream
{
    private readonly Stream _rest;
    private byte[]? _prefix;
    private readonly int _prefixLength;
    private int _position;

    public PrefixedStream(byte[] pooledPrefix, int prefixLength, Stream rest)
    {
        _prefix = pooledPrefix;
        _prefixLength = prefixLength;
        _rest = rest;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (TryReadPrefix(buffer, out var read))
        {
            return read;
        }

        return _rest.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReadPrefix(buffer.Span, out var read))
        {
            return ValueTask.FromResult(read);
        }

        return _rest.ReadAsync(buffer, cancellationToken);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        ReturnPrefix();
        base.Dispose(disposing);
    }

    private bool TryReadPrefix(Span<byte> destination, out int read)
    {
        var prefix = _prefix;
        if (prefix is null)
        {
            read = 0;
            return false;
        }

        if (_position >= _prefixLength)
        {
            ReturnPrefix();
            read = 0;
            return false;
        }

        if (destination.IsEmpty)
        {
            read = 0;
            return true;
        }

        read = Math.Min(destination.Length, _prefixLength - _position);
        prefix.AsSpan(_position, read).CopyTo(destination);
        _position += read;
        if (_position >= _prefixLength)
        {
            ReturnPrefix();
        }

        return true;
    }

    private void ReturnPrefix()
    {
        var prefix = Interlocked.Exchange(ref _prefix, null);
        if (prefix is not null)
        {
            ArrayPool<byte>.Shared.Return(prefix);
        }
    }
}
