using System.Buffers;
using System.Threading.Channels;
using Sidecar.Telemetry;

namespace Sidecar.AccessLog;

/// <summary>
/// Writes access log lines to stdout from a background task, so a request never waits on the console: lines queue in
/// a bounded channel, and a line that finds it full is dropped and counted (<c>sidecar_access_log_dropped_total</c>).
/// Each line is one write of its bytes and newline, so it does not interleave with the text logger's lines.
/// </summary>
internal sealed class AccessLogWriter : BackgroundService
{
    /// <summary>About 4 MiB of queued lines at 1 KiB each: seconds of a storm at full rate, bounded memory.</summary>
    public const int Capacity = 4096;

    private readonly Channel<QueuedLine> _lines = Channel.CreateBounded<QueuedLine>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly Stream _output;
    private readonly SidecarMetrics _metrics;

    public AccessLogWriter(Stream output, SidecarMetrics metrics)
    {
        _output = output;
        _metrics = metrics;
    }

    /// <summary>The queued lines, for tests that read them without the background task.</summary>
    internal ChannelReader<QueuedLine> Queue => _lines.Reader;

    /// <summary>Queues a copy of <paramref name="line"/> (without its newline); false, counted, when the queue is full.</summary>
    public bool TryWrite(ReadOnlySpan<byte> line)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(line.Length + 1);
        line.CopyTo(buffer);
        buffer[line.Length] = (byte)'\n';
        if (_lines.Writer.TryWrite(new QueuedLine(buffer, line.Length + 1)))
        {
            return true;
        }

        ArrayPool<byte>.Shared.Return(buffer);
        _metrics.AccessLogDropped();
        return false;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _lines.Reader;
        try
        {
            while (await reader.WaitToReadAsync(stoppingToken))
            {
                await DrainAsync(reader);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Requests that finished while the host stopped still get their lines.
        await DrainAsync(reader);
    }

    private async Task DrainAsync(ChannelReader<QueuedLine> reader)
    {
        while (reader.TryRead(out var line))
        {
            try
            {
                await _output.WriteAsync(line.Buffer.AsMemory(0, line.Length));
            }
            catch (IOException)
            {
                // stdout closed (the container runtime's log pipe went away): nothing else to do with the line.
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(line.Buffer);
            }
        }

        try
        {
            await _output.FlushAsync();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>A line's bytes, newline included, in a pooled buffer.</summary>
    internal readonly record struct QueuedLine(byte[] Buffer, int Length);
}
