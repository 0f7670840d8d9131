using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.BodyReplay;

/// <summary>
/// A request body read into pooled memory so every attempt sends the same bytes. Reading it ourselves (instead of
/// <c>EnableBuffering</c>) keeps it off disk and immune to YARP cancelling a body copy when the upstream answers early.
/// Bytes are charged to <see cref="BufferedBytesAccount"/> as they arrive, never as a declared <c>Content-Length</c>
/// promises: a slow upload holds only what it has sent, so it cannot take the pool from other callers.
/// </summary>
internal sealed class ReplayableRequestBody : IDisposable
{
    /// <summary>The first buffer's size when the first read brings less; it doubles from there as bytes arrive.</summary>
    private const int InitialBufferSize = 4096;

    private readonly BufferedBytesAccount _account;
    private byte[]? _buffer;
    private int _length;

    private ReplayableRequestBody(BufferedBytesAccount account) => _account = account;

    /// <summary>
    /// Buffers the body of <paramref name="request"/> when it fits <paramref name="limit"/> and the global cap, reading
    /// it as it arrives:
    /// 1. No body: no buffer, replayable.
    /// 2. A declared length over the limit: nothing read, not replayable.
    /// 3. Otherwise each chunk Kestrel has received is charged to the account, then copied. The whole body in: the
    ///    result is replayable and <see cref="HttpRequest.Body"/> reads the copy.
    /// 4. A chunk that would pass the limit (chunked bodies) or that the account refuses: not replayable. What was
    ///    copied stays charged until <see cref="Dispose"/>, and <see cref="HttpRequest.Body"/> yields it followed by
    ///    the rest of the body, streamed once.
    /// Dispose the result (when not null) once the request has ended.
    /// </summary>
    public static async ValueTask<(ReplayableRequestBody? Body, bool Replayable)> TryBufferAsync(HttpRequest request, long limit, BufferedBytesAccount account, CancellationToken cancellationToken)
    {
        var canHaveBody = request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? true;
        var declared = request.ContentLength;
        if (!canHaveBody || declared == 0)
        {
            return (null, true);
        }

        if (declared > limit || limit <= 0)
        {
            return (null, false);
        }

        var maxLength = (int)Math.Min(declared ?? limit, Array.MaxLength);
        var body = new ReplayableRequestBody(account);
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
                        if (body._length > 0)
                        {
                            request.Body = new PrefixedStream(body._buffer.AsMemory(0, body._length), request.Body);
                        }

                        return (body, false);
                    }

                    body.Append(received, maxLength);
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

        request.Body = body.OpenStream();
        return (body, true);
    }

    /// <summary>A fresh read-only stream positioned at the start, for the next attempt. Only for a replayable body.</summary>
    public Stream OpenStream() => _buffer is null ? Stream.Null : new MemoryStream(_buffer, 0, _length, writable: false);

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

    private void Append(in ReadOnlySequence<byte> received, int maxLength)
    {
        var length = _length + (int)received.Length;
        if (_buffer is null || length > _buffer.Length)
        {
            var size = Math.Max(length, Math.Min(Math.Max(2 * (_buffer?.Length ?? 0), InitialBufferSize), maxLength));
            var grown = ArrayPool<byte>.Shared.Rent(size);
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = grown;
        }

        received.CopyTo(_buffer.AsSpan(_length));
        _length = length;
    }
}
