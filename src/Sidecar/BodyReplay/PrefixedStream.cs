namespace Sidecar.BodyReplay;

/// <summary>
/// A read-only stream of already-read bytes followed by the rest of another stream. It does not own the prefix's
/// memory: the <see cref="ReplayableRequestBody"/> that read it keeps it (and its charge to the buffer pool) until the
/// request ends.
/// </summary>
internal sealed class PrefixedStream : Stream
{
    private readonly Stream _rest;
    private readonly ReadOnlyMemory<byte> _prefix;
    private int _position;

    public PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest)
    {
        _prefix = prefix;
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

    private bool TryReadPrefix(Span<byte> destination, out int read)
    {
        var left = _prefix.Length - _position;
        if (left <= 0)
        {
            read = 0;
            return false;
        }

        read = Math.Min(destination.Length, left);
        _prefix.Span.Slice(_position, read).CopyTo(destination);
        _position += read;
        return true;
    }
}
