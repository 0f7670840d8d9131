using System.IO.Pipelines;

namespace Sidecar.BodyReplay;

/// <summary>
/// A body forwarded once and not kept (larger than <c>buffer_limit</c>, or buffering shed under memory pressure),
/// read through <see cref="CallerBodyRead"/> so that an attempt cancelled while the caller is still sending leaves
/// Kestrel able to drain the rest: no Error line per request, and the connection stays usable.
/// </summary>
internal sealed class CallerBodyStream : ReadOnlyStream
{
    private readonly Stream _source;
    private readonly PipeReader _reader;

    public CallerBodyStream(Stream source, PipeReader reader)
    {
        _source = source;
        _reader = reader;
    }

    public override int Read(Span<byte> buffer) => _source.Read(buffer);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        CallerBodyRead.ReadAsync(_reader, buffer, cancellationToken);
}
