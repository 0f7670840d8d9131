using System.Buffers;
using System.IO.Pipelines;

namespace Sidecar.BodyReplay;

/// <summary>
/// Reads the caller's body through its <see cref="PipeReader"/>, stopped by <see cref="PipeReader.CancelPendingRead"/>
/// when the token fires rather than by the token itself: a Kestrel body read cancelled by its token stays "in
/// progress", so Kestrel's drain at the end of the request fails ("automatic draining of the request body failed
/// because the body reader is in an invalid state", logged at Error for each request) and closes the connection, and
/// the caller's next request on it gets no answer. YARP cancels its body copy whenever an upstream answers before
/// reading all of it, or an attempt times out (found by Faults/ControlHeaderFuzzTests and Retries/StreamingBodyTests).
/// </summary>
internal static class CallerBodyRead
{
    /// <summary>
    /// Whether the caller is still sending: Kestrel has not received the end of the body yet. Takes nothing from the
    /// body; call it only while no read is under way (between attempts). False for a body that cannot be read.
    /// </summary>
    public static bool IsStillArriving(PipeReader reader)
    {
        ReadResult result;
        try
        {
            if (!reader.TryRead(out result))
            {
                return true;
            }
        }
        catch (IOException)
        {
            // A malformed body (Kestrel's BadHttpRequestException) or a caller gone: the forwarding read meets the same
            // error and answers it; there is nothing to wait for.
            return false;
        }

        reader.AdvanceTo(result.Buffer.Start);
        return !result.IsCompleted;
    }

    /// <summary>Reads into <paramref name="destination"/>; 0 at the body's end.</summary>
    public static async ValueTask<int> ReadAsync(PipeReader reader, Memory<byte> destination, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReadResult result;
            using (cancellationToken.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), reader))
            {
                result = await reader.ReadAsync(CancellationToken.None);
            }

            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                // Consumed nothing; the loop throws if the token fired (a cancel meant for an earlier read just reads again).
                reader.AdvanceTo(buffer.Start);
                continue;
            }

            var count = (int)Math.Min(buffer.Length, destination.Length);
            buffer.Slice(0, count).CopyTo(destination.Span);
            reader.AdvanceTo(buffer.GetPosition(count));
            // A zero-byte read (YARP's copier waits with one before it rents a buffer) ends once data is there.
            if (count > 0 || result.IsCompleted || destination.IsEmpty)
            {
                return count;
            }
        }
    }
}
