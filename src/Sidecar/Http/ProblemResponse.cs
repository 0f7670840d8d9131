using System.Text.Json;
using Sidecar.Grpc;

namespace Sidecar.Http;

/// <summary>
/// Writes the errors Sidecar makes itself as RFC 9457 <c>application/problem+json</c>, with the route, the attempts
/// made and a machine-readable reason, so a caller can tell a Sidecar 502 from an upstream's. A gRPC caller gets the
/// same error as a gRPC status instead (<see cref="GrpcResponse"/>): the one place every Sidecar answer goes through.
/// </summary>
internal static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    /// <summary>
    /// Answers with <paramref name="status"/> as problem+json, or for a gRPC caller as a trailers-only gRPC status:
    /// <paramref name="grpcStatus"/> when given (not negative), else the one <paramref name="status"/> maps to.
    /// With <paramref name="closeConnection"/>, an HTTP/1.x answer carries <c>Connection: close</c> and Kestrel closes
    /// the connection after it. A gRPC caller's <c>grpc-message</c> is <paramref name="grpcMessage"/> when given, else <paramref name="title"/>.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string? route, int attempts, string reason, string? detail = null, int retryAfterSeconds = 0, int grpcStatus = -1, bool closeConnection = false, string? grpcMessage = null)
    {
        if (GrpcProtocol.IsGrpc(context.Request))
        {
            return GrpcResponse.WriteAsync(context, grpcStatus >= 0 ? grpcStatus : GrpcResponse.StatusFor(status), grpcMessage ?? title, attempts);
        }

        return WriteProblemAsync(context, status, title, route, attempts, reason, detail, retryAfterSeconds, closeConnection);
    }

    private static async Task WriteProblemAsync(HttpContext context, int status, string title, string? route, int attempts, string reason, string? detail, int retryAfterSeconds, bool closeConnection)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return;
        }

        response.Clear();
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";
        if (attempts > 0)
        {
            response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(attempts);
        }

        if (retryAfterSeconds > 0)
        {
            response.Headers.RetryAfter = SidecarHeaders.Number(retryAfterSeconds);
        }

        if (closeConnection)
        {
            response.Headers.Connection = "close";
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", "about:blank");
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            if (detail is not null)
            {
                json.WriteString("detail", detail);
            }

            if (route is not null)
            {
                json.WriteString("route", route);
            }

            json.WriteNumber("attempts", attempts);
            json.WriteString("reason", reason);
            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        try
        {
            await response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The caller left; nobody is there to read the error.
        }
    }
}
