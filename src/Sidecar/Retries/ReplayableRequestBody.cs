using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Sidecar.Retries;

/// <summary>
/// A request body read into pooled memory so every attempt sends the same bytes. Reading it ourselves (instead of
/// <c>EnableBuffering</c>) keeps it off disk and immune to YARP cancelling a body copy when the upstream answers early.
/// </summary>
internal sealed class ReplayableRequestBody : IDisposable
{
    private readonly BufferedBytesAccount _account;
    private byte[]? _buffer;
    private readonly int _length;

    private ReplayableRequestBody(BufferedBytesAccount account, byte[] buffer, int length)
    {
        _account = account;
        _buffer = buffer;
        _length = length;
    }

    /// <summary>
    /// Buffers the body of <paramref name="request"/> when it fits <paramref name="limit"/> and the global cap.
    /// Returns no body and Replayable = true when there is no body, and no body with false
    /// when the body must be streamed once; in that case <see cref="HttpRequest.Body"/> still yields the whole body.
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

        // Known length: reserve exactly that. Chunked: reserve the limit, and give back what was not used.
        var reserve = declared ?? limit;
        if (!account.TryReserve(reserve))
        {
            return (null, false);
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(reserve + 1, int.MaxValue));
        var length = 0;
        var complete = false;
        try
        {
            while (length < buffer.Length)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    complete = true;
                    break;
                }

                length += read;
                if (length > reserve)
                {
                    break;
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            account.Release(reserve);
            throw;
        }

        if (!complete || length > reserve)
        {
            // Chunked past the limit: send what was read followed by the rest, once.
            account.Release(reserve);
            request.Body = new PrefixedStream(buffer, length, request.Body);
            return (null, false);
        }

        if (reserve > length)
        {
            account.Release(reserve - length);
        }

        var body = new ReplayableRequestBody(account, buffer, length);
        request.Body = body.OpenStream();
        return (body, true);
    }

    /// <summary>A fresh read-only stream positioned at the start, for the next attempt.</summary>
    public Stream OpenStream() => new MemoryStream(_buffer!, 0, _length, writable: false);

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _account.Release(_length);
        }
    }
}
