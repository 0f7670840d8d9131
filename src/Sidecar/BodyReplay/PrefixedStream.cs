namespace Sidecar.BodyReplay;

/// <summary>
/// A read-only stream of already-read bytes followed by the rest of another stream. It does not own the prefix's
/// memory: the <see cref="ReplayableRequestBody"/> that read it keeps it (and its charge to the buffer pool) until the
/// request ends.
/// </summary>
internal sealed class PrefixedStream : ReadOnlyStream
{
    private readonly Stream _rest;
    private readonly ReadOnlyMemory<byte> _prefix;
    private int _position;

    public PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest)
    {
        _prefix = prefix;
        _rest = rest;
    }

    public override int Read(Span<byte> buffer)
    {
        if (TryReadPrefix(buffer, out var read))
        {
            return read;
        }

        return _rest.Read(buffer);
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (TryReadPrefix(buffer.Span, out var read))
        {
            return ValueTask.FromResult(read);
        }

        return _rest.ReadAsync(buffer, cancellationToken);
    }

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
