using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.Retries;

namespace Sidecar.BodyReplay;

/// <summary>
/// A request body kept in pooled memory so every attempt sends the same bytes. Two ways to fill it:
/// <list type="bullet">
/// <item><see cref="Tee"/>, for the attempt loop: the body is forwarded as it arrives and copied on the way, so a
/// stream (gRPC client or bidirectional streaming, a slow upload) is never held back. A retry replays the copy and
/// then goes on reading the caller's body where the last attempt stopped.</item>
/// <item><see cref="TryBufferAsync"/>, for hedging, whose attempts read the body at the same time: the whole body is
/// read before the first attempt.</item>
/// </list>
/// Reading it ourselves (instead of <c>EnableBuffering</c>) keeps it off disk and immune to YARP cancelling a body copy
/// when the upstream answers early: a cancelled read takes nothing from the caller's body, and a completed one is
/// copied before YARP sees it. Bytes are charged to <see cref="BufferedBytesAccount"/> as they arrive, never as a
/// declared <c>Content-Length</c> promises: a slow upload holds only what it has sent, so it cannot take the pool from
/// other callers.
/// </summary>
internal sealed class ReplayableRequestBody : IReplayableBody, IDisposable
{
    /// <summary>The first buffer's size when the first read brings less; it doubles from there as bytes arrive.</summary>
    private const int InitialBufferSize = 4096;

    private readonly BufferedBytesAccount _account;
    private readonly Stream? _source;
    private readonly PipeReader? _sourceReader;
    private readonly int _maxLength;
    private byte[]? _buffer;
    private int _length;
    private bool _sourceEnded;
    private volatile bool _lost;

    private ReplayableRequestBody(BufferedBytesAccount account, Stream? source, PipeReader? sourceReader, int maxLength)
    {
        _account = account;
        _source = source;
        _sourceReader = sourceReader;
        _maxLength = maxLength;
    }

    /// <summary>
    /// False once a byte read from the caller could not be kept (past the limit, or the pool was full): the body can no
    /// longer be sent again, and the copy has been let go.
    /// </summary>
    public bool IsReplayable => !_lost;

    /// <summary>
    /// Makes <paramref name="request"/>'s body forward as it arrives while a copy is kept for replay:
    /// 1. No body: nothing kept, replayable.
    /// 2. A declared length over the limit (or no limit at all): not replayable, nothing kept; the body is read through
    ///    <see cref="CallerBodyStream"/> so an attempt cancelled mid-upload leaves Kestrel able to drain it.
    /// 3. Otherwise <see cref="HttpRequest.Body"/> becomes a stream that copies each chunk it reads, charged to the
    ///    account first. A chunk that would pass the limit (chunked bodies) or that the account refuses is still
    ///    forwarded, but the copy is released and the body is no longer replayable.
    /// Dispose the result (when not null) once the request has ended.
    /// </summary>
    public static (ReplayableRequestBody? Body, bool Replayable) Tee(HttpRequest request, long limit, BufferedBytesAccount account)
    {
        if (!HasBody(request))
        {
            return (null, true);
        }

        var declared = request.ContentLength;
        if (declared > limit || limit <= 0)
        {
            request.Body = new CallerBodyStream(request.Body, request.BodyReader);
            return (null, false);
        }

        var body = new ReplayableRequestBody(account, request.Body, request.BodyReader, (int)Math.Min(declared ?? limit, Array.MaxLength));
        request.Body = new AttemptStream(body);
        return (body, true);
    }

    /// <summary>
    /// Buffers the body of <paramref name="request"/> when it fits <paramref name="limit"/> and the global cap, reading
    /// it as it arrives:
    /// 1. No body: no buffer, replayable.
    /// 2. A declared length over the limit: nothing read, not replayable (read on through <see cref="CallerBodyStream"/>).
    /// 3. Otherwise each chunk Kestrel has received is charged to the account, then copied. The whole body in: the
    ///    result is replayable and <see cref="HttpRequest.Body"/> reads the copy.
    /// 4. A chunk that would pass the limit (chunked bodies) or that the account refuses: not replayable. What was
    ///    copied stays charged until <see cref="Dispose"/>, and <see cref="HttpRequest.Body"/> yields it followed by
    ///    the rest of the body, streamed once.
    /// Dispose the result (when not null) once the request has ended.
    /// </summary>
    public static async ValueTask<(ReplayableRequestBody? Body, bool Replayable)> TryBufferAsync(HttpRequest request, long limit, BufferedBytesAccount account, CancellationToken cancellationToken)
    {
        if (!HasBody(request))
        {
            return (null, true);
        }

        var declared = request.ContentLength;
        if (declared > limit || limit <= 0)
        {
            request.Body = new CallerBodyStream(request.Body, request.BodyReader);
            return (null, false);
        }

        var maxLength = (int)Math.Min(declared ?? limit, Array.MaxLength);
        var body = new ReplayableRequestBody(account, source: null, sourceReader: null, maxLength);
        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var received = result.Buffer;
                if (!received.IsEmpty)
                {
                    if (received.Length > maxLength - body._length || !account.TryReserve(received.Length))
                    {
                        // Nothing of this chunk is consumed: the original body stream yields it after the copied part.
                        reader.AdvanceTo(received.Start);
                        var rest = new CallerBodyStream(request.Body, reader);
                        request.Body = body._length > 0 ? new PrefixedStream(body._buffer.AsMemory(0, body._length), rest) : rest;

                        return (body, false);
                    }

                    body.Append(received);
                }

                reader.AdvanceTo(received.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch
        {
            body.Dispose();
            throw;
        }

        body._sourceEnded = true;
        request.Body = body.OpenStream();
        return (body, true);
    }

    /// <summary>
    /// A fresh read-only stream for the next attempt, positioned at the start: the copy, then (for a body still
    /// arriving) the rest of the caller's body. Only for a replayable body, and only once the previous attempt's stream
    /// is no longer read (YARP waits for its body copy before it returns).
    /// </summary>
    public Stream OpenStream()
    {
        if (_sourceEnded || _source is null)
        {
            return _buffer is null ? Stream.Null : new MemoryStream(_buffer, 0, _length, writable: false);
        }

        return new AttemptStream(this);
    }

    /// <summary>Returns the memory to the pool and its bytes to the account.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _account.Release(_length);
        }
    }

    private static bool HasBody(HttpRequest request) =>
        (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true) && request.ContentLength != 0;

    /// <summary>Copies <paramref name="received"/> after the bytes kept so far; false (and the copy let go) when it cannot be kept.</summary>
    private bool TryKeep(ReadOnlySpan<byte> received)
    {
        if (received.Length > _maxLength - _length || !_account.TryReserve(received.Length))
        {
            _lost = true;
            Dispose();
            return false;
        }

        EnsureCapacity(_length + received.Length);
        received.CopyTo(_buffer.AsSpan(_length));
        _length += received.Length;
        return true;
    }

    private void Append(in ReadOnlySequence<byte> received)
    {
        EnsureCapacity(_length + (int)received.Length);
        received.CopyTo(_buffer.AsSpan(_length));
        _length += (int)received.Length;
    }

    private void EnsureCapacity(int length)
    {
        if (_buffer is not null && length <= _buffer.Length)
        {
            return;
        }

        var size = Math.Max(length, Math.Min(Math.Max(2 * (_buffer?.Length ?? 0), InitialBufferSize), _maxLength));
        var grown = ArrayPool<byte>.Shared.Rent(size);
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _length).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
        }

        _buffer = grown;
    }

    /// <summary>
    /// One attempt's view of a teed body: the bytes kept so far, then the caller's body read on, each chunk kept before
    /// it is returned. Once a chunk could not be kept the stream just passes the caller's body through.
    /// </summary>
    private sealed class AttemptStream : ReadOnlyStream
    {
        private readonly ReplayableRequestBody _body;
        private int _position;

        public AttemptStream(ReplayableRequestBody body) => _body = body;

        public override int Read(Span<byte> buffer)
        {
            if (TryReadKept(buffer, out var read))
            {
                return read;
            }

            buffer = buffer[..Room(buffer.Length)];
            return Kept(buffer, _body._source!.Read(buffer));
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (TryReadKept(buffer.Span, out var read))
            {
                return ValueTask.FromResult(read);
            }

            return ReadSourceAsync(buffer, cancellationToken);
        }

        private async ValueTask<int> ReadSourceAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            buffer = buffer[..Room(buffer.Length)];
            var read = await CallerBodyRead.ReadAsync(_body._sourceReader!, buffer, cancellationToken);
            return Kept(buffer.Span, read);
        }

        /// <summary>
        /// How much of a read of <paramref name="length"/> bytes to ask the caller's body for: no more than can still be
        /// kept, so a chunk is never read past the limit while a retry could still need it (a retry may be decided while
        /// this read is under way). At the limit, one byte tells whether the body is longer.
        /// </summary>
        private int Room(int length)
        {
            var body = _body;
            if (body._lost)
            {
                return length;
            }

            return Math.Min(length, Math.Max(body._maxLength - body._length, 1));
        }

        /// <summary>Serves the bytes kept that this attempt has not sent yet; false when it is at the end of them.</summary>
        private bool TryReadKept(Span<byte> destination, out int read)
        {
            var body = _body;
            var left = body._lost ? 0 : body._length - _position;
            if (left > 0)
            {
                read = Math.Min(destination.Length, left);
                body._buffer.AsSpan(_position, read).CopyTo(destination);
                _position += read;
                return true;
            }

            if (body._sourceEnded)
            {
                read = 0;
                return true;
            }

            read = 0;
            return destination.IsEmpty;
        }

        /// <summary>Keeps what was just read from the caller's body (while the body is still replayable).</summary>
        private int Kept(Span<byte> buffer, int read)
        {
            var body = _body;
            if (read == 0)
            {
                body._sourceEnded = true;
            }
            else if (!body._lost && body.TryKeep(buffer[..read]))
            {
                _position += read;
            }

            return read;
        }
    }
}
