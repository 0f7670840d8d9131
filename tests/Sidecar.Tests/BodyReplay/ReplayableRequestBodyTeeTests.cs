using Sidecar.BodyReplay;

namespace Sidecar.Tests.BodyReplay;

/// <summary><see cref="ReplayableRequestBody.Tee"/>: forwarded as read, kept for replay, let go when it cannot be kept.</summary>
public sealed class ReplayableRequestBodyTeeTests : IDisposable
{
    private const string Yaml = """
        limits: { max_buffered_bytes: 1KiB }
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        routes:
          - { name: r, match: { path: "/{**rest}" }, cluster: app }
        """;

    private readonly RetryHarness _harness = new(Yaml);
    private readonly BufferedBytesAccount _account;

    public ReplayableRequestBodyTeeTests() => _account = new BufferedBytesAccount(_harness.Store, _harness.Metrics.Metrics);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Tee_BodyReadInParts_EachAttemptSendsTheSameBytes()
    {
        var source = new ChunkedStream([[1, 2, 3], [4, 5], [6]]);
        var request = Request(source, contentLength: null);

        var (body, replayable) = ReplayableRequestBody.Tee(request, limit: 100, _account);
        using var kept = body!;
        // Attempt 1 reads two chunks, then the upstream answers and stops reading.
        var first = new byte[10];
        Assert.Equal(3, await request.Body.ReadAsync(first));
        Assert.Equal(2, await request.Body.ReadAsync(first.AsMemory(3)));
        Assert.Equal(5, Held());

        // Attempt 2 replays what was kept, then reads on where the caller is.
        var second = await ReadAllAsync(kept.OpenStream());

        Assert.True(replayable);
        Assert.True(kept.IsReplayable);
        Assert.Equal([1, 2, 3, 4, 5, 6], second);
        Assert.Equal([1, 2, 3, 4, 5, 6], await ReadAllAsync(kept.OpenStream()));
        kept.Dispose();
        Assert.Equal(0, Held());
    }

    [Fact]
    public async Task Tee_BodyOutgrowsTheLimit_StillForwardedWholeButCopyLetGo()
    {
        var source = new ChunkedStream([[1, 2, 3], [4, 5, 6], [7]]);
        var request = Request(source, contentLength: null);

        var (body, _) = ReplayableRequestBody.Tee(request, limit: 4, _account);
        using var kept = body!;
        var forwarded = await ReadAllAsync(request.Body);

        Assert.Equal([1, 2, 3, 4, 5, 6, 7], forwarded);
        Assert.False(kept.IsReplayable);
        Assert.Equal(0, Held());
    }

    [Fact]
    public async Task Tee_ReadLargerThanTheRoomLeft_AsksOnlyForWhatCanBeKept()
    {
        var source = new ChunkedStream([[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]);
        var request = Request(source, contentLength: null);

        var (body, _) = ReplayableRequestBody.Tee(request, limit: 4, _account);
        using var kept = body!;
        var buffer = new byte[16];

        // A retry may be decided while this read is under way: it must not take a byte that cannot be kept.
        Assert.Equal(4, await request.Body.ReadAsync(buffer));
        Assert.True(kept.IsReplayable);
        Assert.Equal(4, Held());

        // At the limit one byte tells that the body is longer: from then on it passes through, and the copy is let go.
        Assert.Equal(1, await request.Body.ReadAsync(buffer));
        Assert.False(kept.IsReplayable);
        Assert.Equal(0, Held());
        Assert.Equal(5, await request.Body.ReadAsync(buffer));
    }

    [Fact]
    public async Task Tee_PoolFull_NotReplayableAndNothingHeld()
    {
        var source = new ChunkedStream([new byte[600], new byte[600]]);
        var request = Request(source, contentLength: 1200);

        var (body, _) = ReplayableRequestBody.Tee(request, limit: 4096, _account);
        using var kept = body!;
        var forwarded = await ReadAllAsync(request.Body);

        Assert.Equal(1200, forwarded.Length);
        Assert.False(kept.IsReplayable);
        Assert.Equal(0, Held());
    }

    [Theory]
    [InlineData(0L, 100L, true)]
    [InlineData(200L, 100L, false)]
    [InlineData(10L, 0L, false)]
    public void Tee_NoBodyOrDeclaredPastTheLimit_KeepsNothing(long contentLength, long limit, bool expectedReplayable)
    {
        var request = Request(new ChunkedStream([]), contentLength);

        var (body, replayable) = ReplayableRequestBody.Tee(request, limit, _account);

        Assert.Null(body);
        Assert.Equal(expectedReplayable, replayable);
    }

    private static HttpRequest Request(Stream body, long? contentLength)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Put;
        context.Request.Body = body;
        context.Request.ContentLength = contentLength;
        return context.Request;
    }

    private long Held() => _account.Held;

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>A caller's body arriving in the given chunks: a read returns at most the rest of the current chunk.</summary>
    private sealed class ChunkedStream(byte[][] chunks) : Stream
    {
        private int _next;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (count == 0 || _next >= chunks.Length)
            {
                return 0;
            }

            var chunk = chunks[_next];
            var read = Math.Min(count, chunk.Length - _offset);
            chunk.AsSpan(_offset, read).CopyTo(buffer.AsSpan(offset));
            _offset += read;
            if (_offset == chunk.Length)
            {
                _next++;
                _offset = 0;
            }

            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
