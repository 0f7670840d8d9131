using System.Text;
using Sidecar.Grpc;

namespace Sidecar.Http;

/// <summary>
/// Sidecar's own answers to gRPC callers: a trailers-only response (HTTP 200 whose one HEADERS frame carries
/// <c>grpc-status</c> and <c>grpc-message</c> and ends the stream), which every gRPC client reads as the call's status.
/// A gRPC client reads an HTTP error status only as a guess (502, 503 and 504 all become UNAVAILABLE), so a deadline
/// would come back as retryable UNAVAILABLE and the client's own retry policy would try again.
/// </summary>
internal static class GrpcResponse
{
    /// <summary>
    /// The gRPC status for an error Sidecar answers itself, given the HTTP status it would send a plain HTTP caller.
    /// Sidecar's 504s all mean "time ran out" (DEADLINE_EXCEEDED); the rest follows gRPC's HTTP-to-gRPC table
    /// (<c>http-grpc-status-mapping.md</c>). Shedding under overload names its own status (RESOURCE_EXHAUSTED).
    /// </summary>
    public static int StatusFor(int httpStatus) =>
        httpStatus switch
        {
            StatusCodes.Status504GatewayTimeout => GrpcStatus.DeadlineExceeded,
            StatusCodes.Status400BadRequest => GrpcStatus.Internal,
            StatusCodes.Status401Unauthorized => GrpcStatus.Unauthenticated,
            StatusCodes.Status403Forbidden => GrpcStatus.PermissionDenied,
            StatusCodes.Status404NotFound => GrpcStatus.Unimplemented,
            StatusCodes.Status413PayloadTooLarge => GrpcStatus.ResourceExhausted,
            StatusCodes.Status429TooManyRequests or StatusCodes.Status502BadGateway or StatusCodes.Status503ServiceUnavailable => GrpcStatus.Unavailable,
            _ => GrpcStatus.Unknown,
        };

    /// <summary>Answers the gRPC request of <paramref name="context"/> with <paramref name="status"/>, unless a response has started.</summary>
    public static Task WriteAsync(HttpContext context, int status, string message, int attempts)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.Clear();
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = GrpcProtocol.IsGrpcContentType(context.Request.ContentType) ? context.Request.ContentType : "application/grpc";
        response.Headers[GrpcProtocol.Status] = SidecarHeaders.Number(status);
        response.Headers[GrpcProtocol.Message] = EncodeMessage(message);
        if (attempts > 0)
        {
            response.Headers[SidecarHeaders.Attempts] = SidecarHeaders.Number(attempts);
        }

        if (!HttpProtocol.IsHttp2(context.Request.Protocol) && !HttpProtocol.IsHttp3(context.Request.Protocol))
        {
            // gRPC needs HTTP/2; an HTTP/1.1 caller (gRPC-Web through a bridge, a probe) still gets a complete answer.
            response.ContentLength = 0;
        }

        return Task.CompletedTask;
    }

    /// <summary><c>grpc-message</c> is percent-encoded UTF-8: bytes outside printable ASCII, and '%', become %XX.</summary>
    internal static string EncodeMessage(string message)
    {
        var plain = true;
        foreach (var c in message)
        {
            if (c < ' ' || c > '~' || c == '%')
            {
                plain = false;
                break;
            }
        }

        if (plain)
        {
            return message;
        }

        var builder = new StringBuilder(message.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b < ' ' || b > '~' || b == '%')
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append((char)b);
            }
        }

        return builder.ToString();
    }
}
