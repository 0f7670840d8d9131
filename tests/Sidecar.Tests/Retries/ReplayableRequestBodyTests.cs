using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Hosting;
using Sidecar.Logging;
using Sidecar.Resilience;
using Sidecar.Retries;
using Sidecar.Tests.Telemetry;

namespace Sidecar.Tests.Retries;

/// <summary><see cref="ReplayableRequestBody.Tee"/>: forwarded as read, kept for replay, let go when it cannot be kept.</summary>
public sealed class ReplayableRequestBodyTests : IDisposable
{
    private readonly MetricsTestContext _metrics = new();
    private readonly BufferedBytesAccount _account;

    public ReplayableRequestBodyTests() => _account = new BufferedBytesAccount(Store("1KiB"), _metrics.Metrics);

    public void Dispose() => _metrics.Dispose();

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

    private static SidecarConfigStore Store(string maxBuffered)
    {
        var time = new FakeTimeProvider();
        var config = SidecarConfigLoader.Parse(
            $$"""
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c }
            limits:
              max_buffered_bytes: {{maxBuffered}}
            """,
            "test.yaml").Config!;
        var breakers = new CircuitBreakerRegistry(time);
        return new SidecarConfigStore(config, new ClusterRetryStateRegistry(time), breakers, new RetryLog(NullLogger<RetryLog>.Instance, breakers, time));
    }

    /// <summary>A caller's body arriving in the given chunks, one per read.</summary>
    private sealed class ChunkedStream(byte[][] chunks) : Stream
    {
        private int _next;

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

            var chunk = chunks[_next++];
            Assert.True(count >= chunk.Length, "test reads are large enough for a whole chunk");
            chunk.CopyTo(buffer, offset);
            return chunk.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
