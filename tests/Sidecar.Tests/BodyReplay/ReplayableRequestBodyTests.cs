using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.BodyReplay;

namespace Sidecar.Tests.BodyReplay;

/// <summary>
/// <see cref="ReplayableRequestBody"/>: a body within the limit is copied once and replayed byte for byte; past the
/// limit (or the process-wide account) nothing is lost: the caller's stream continues after the part already read.
/// </summary>
public sealed class ReplayableRequestBodyTests : IDisposable
{
    private const string Yaml = """
        limits: { max_buffered_bytes: 64KiB }
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        routes:
          - { name: r, match: { path: "/{**rest}" }, cluster: app }
        """;

    private readonly RetryHarness _harness = new(Yaml);
    private readonly BufferedBytesAccount _account;

    public ReplayableRequestBodyTests() => _account = new BufferedBytesAccount(_harness.Store, _harness.Metrics.Metrics);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task TryBufferAsync_BodyWithinTheLimit_ReplaysItEveryTimeAndReleasesOnDispose()
    {
        var request = Request("hello body", contentLength: true);

        var (body, replayable) = await ReplayableRequestBody.TryBufferAsync(request, 1024, _account, CancellationToken.None);

        Assert.True(replayable);
        Assert.Equal("hello body", await ReadAsync(request.Body));
        Assert.Equal("hello body", await ReadAsync(body!.OpenStream()));
        Assert.Equal("hello body", await ReadAsync(body.OpenStream()));
        Assert.False(_account.TryReserve(64 * 1024));
        body.Dispose();
        body.Dispose();
        Assert.True(_account.TryReserve(64 * 1024));
    }

    [Fact]
    public async Task TryBufferAsync_NoBody_ReplayableWithoutABuffer()
    {
        var request = Request(string.Empty, contentLength: true);

        var (body, replayable) = await ReplayableRequestBody.TryBufferAsync(request, 1024, _account, CancellationToken.None);

        Assert.Null(body);
        Assert.True(replayable);
    }

    [Fact]
    public async Task TryBufferAsync_DeclaredLengthOverTheLimit_NotReadAtAll()
    {
        var request = Request(new string('x', 100), contentLength: true);

        var (body, replayable) = await ReplayableRequestBody.TryBufferAsync(request, 99, _account, CancellationToken.None);

        Assert.Null(body);
        Assert.False(replayable);
        Assert.Equal(new string('x', 100), await ReadAsync(request.Body));
    }

    [Fact]
    public async Task TryBufferAsync_ChunkedBodyOverTheLimit_CallerStreamStillYieldsEveryByte()
    {
        var pipe = new Pipe();
        var request = new DefaultHttpContext().Request;
        request.HttpContext.Features.Set<IRequestBodyPipeFeature>(new PipeFeature(pipe.Reader));
        request.Body = pipe.Reader.AsStream();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("first-"));
        var buffering = ReplayableRequestBody.TryBufferAsync(request, 10, _account, CancellationToken.None).AsTask();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("second-part"));
        await pipe.Writer.CompleteAsync();

        var (body, replayable) = await buffering;

        Assert.False(replayable);
        Assert.Equal("first-second-part", await ReadAsync(request.Body));
        body?.Dispose();
    }

    [Fact]
    public async Task TryBufferAsync_ProcessWideAccountFull_NotReplayableAndNothingLost()
    {
        Assert.True(_account.TryReserve(64 * 1024));
        var request = Request("payload", contentLength: true);

        var (body, replayable) = await ReplayableRequestBody.TryBufferAsync(request, 1024, _account, CancellationToken.None);

        Assert.False(replayable);
        Assert.Equal("payload", await ReadAsync(request.Body));
        body?.Dispose();
    }

    /// <summary>A request whose body stream and body reader share one pipe, as Kestrel's do.</summary>
    private static HttpRequest Request(string content, bool contentLength)
    {
        var bytes = Encoding.ASCII.GetBytes(content);
        var pipe = new Pipe();
        pipe.Writer.Write(bytes);
        pipe.Writer.Complete();
        var request = new DefaultHttpContext().Request;
        request.HttpContext.Features.Set<IRequestBodyPipeFeature>(new PipeFeature(pipe.Reader));
        request.Body = pipe.Reader.AsStream();
        if (contentLength)
        {
            request.ContentLength = bytes.Length;
        }

        return request;
    }

    private static async Task<string> ReadAsync(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        return await reader.ReadToEndAsync();
    }

    private sealed class PipeFeature(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }
}
