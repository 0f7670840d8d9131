using System.IO.Pipelines;
using Sidecar.Configuration;
using Sidecar.Grpc;
using Sidecar.Http;

namespace Sidecar.Overload;

/// <summary>
/// The answer to a request Sidecar sheds: 503 <c>application/problem+json</c> with <c>Retry-After</c> and
/// <c>reason: overloaded</c>, or for a gRPC caller the gRPC form of the same, RESOURCE_EXHAUSTED
/// (<see cref="ProblemResponse"/> decides the form).
/// </summary>
internal static class OverloadResponse
{
    /// <summary>The problem's <c>reason</c>.</summary>
    public const string Reason = "overloaded";

    /// <summary>
    /// Seconds a shed caller should wait: the overload manager samples 4 times a second and a burst drains in about a
    /// second, so asking for more would keep callers away after Sidecar has recovered.
    /// </summary>
    public const int RetryAfterSeconds = 1;

    /// <summary>
    /// How long a shed answer waits for the rest of a small body before it goes out on a connection kept open: a caller
    /// that trickles its body must not hold its answer back, nor make Sidecar hold the request.
    /// </summary>
    public static readonly TimeSpan BodyReadTimeout = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Answers <paramref name="context"/>'s request, shed for <paramref name="action"/>. An HTTP/1.x connection is
    /// closed after the answer when the request's body could be read to its end first (Envoy's overload manager does
    /// the same with <c>disable_http_keepalive</c>): the caller is asked to wait before it comes back, and a connection
    /// kept idle for it meanwhile costs memory when Sidecar has least. In a 64 MiB pod with 2,000 callers, closing them
    /// lowered the peak by 4 to 7 MiB and left no caller without an answer. The body must be read first because closing
    /// with unread bytes makes the kernel reset the connection, and a reset can reach the caller before the 503 does.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, string? route, OverloadAction action)
    {
        var title = action == OverloadAction.ConcurrencyLimit
            ? "Sidecar is at its limit of concurrent requests"
            : "Sidecar is overloaded: memory is short";
        var close = !HttpProtocol.IsHttp2(context.Request.Protocol)
            && !HttpProtocol.IsHttp3(context.Request.Protocol)
            && await TryReadBodyToEndAsync(context);
        // gRPC: RESOURCE_EXHAUSTED (8), a resource (Sidecar's memory or its request slots) is exhausted; clients may retry.
        await ProblemResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, title, route, attempts: 0, Reason, retryAfterSeconds: RetryAfterSeconds, grpcStatus: GrpcStatus.ResourceExhausted, closeConnection: close);
    }

    /// <summary>
    /// Reads and drops the request's body when it is at most <see cref="MemoryBudget.ConnectionBufferBytes"/>, what
    /// Kestrel's receive buffer holds anyway, and arrives within <see cref="BodyReadTimeout"/>: true once it has all
    /// been read. Otherwise the rest is left for Kestrel to drain on a connection kept open, as before.
    /// </summary>
    private static async ValueTask<bool> TryReadBodyToEndAsync(HttpContext context)
    {
        if (context.Request.ContentLength > MemoryBudget.ConnectionBufferBytes)
        {
            return false;
        }

        var reader = context.Request.BodyReader;
        long read = 0;
        // Stopped with CancelPendingRead, not a token: a Kestrel body read cancelled by its token stays "in progress",
        // and Kestrel's own drain after the answer would then fail and close the connection.
        using var timeout = new CancellationTokenSource(BodyReadTimeout);
        using var stop = timeout.Token.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), reader);
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(context.RequestAborted);
                if (result.IsCanceled)
                {
                    reader.AdvanceTo(result.Buffer.Start);
                    return false;
                }

                read += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return true;
                }

                if (read > MemoryBudget.ConnectionBufferBytes)
                {
                    return false;
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // Too slow, gone, or a broken body: Kestrel drains or ends that connection on its own.
            return false;
        }
    }
}
