using Sidecar.BodyReplay;
using Sidecar.Grpc;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Pipeline;

/// <summary>
/// Lets an upstream's early answer through while the caller is still uploading. HTTP/1.1's client (SocketsHttpHandler)
/// sends the whole request body before it hands over a response, so an upstream that answers before reading (a 503 at
/// the door) would reach the caller only after its last byte, or never if a timeout fires first. A request whose body
/// has not fully arrived when it is forwarded asks the upstream for <c>100 Continue</c> first (RFC 9110 10.1.1): an
/// upstream that reads gets the body after one round trip (Kestrel, Go, nginx and Node send the 100 when they start
/// reading; one that ignores it gets the body after the client's one-second wait), and one that answers at once is
/// passed on at once, its body not sent. gRPC is left alone: its client streams are always "still arriving", and
/// HTTP/2 passes early answers on by itself. On routes with a policy, <see cref="AttemptHeadersTransform"/> applies
/// it per attempt (<see cref="Retries.RetryState.ExpectContinue"/>); this transform serves routes without one.
/// </summary>
internal sealed class EarlyAnswerTransform : RequestTransform
{
    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var request = context.HttpContext.Request;
        var proxyRequest = context.ProxyRequest;
        if (proxyRequest.Content is not null && CanAsk(proxyRequest) && !GrpcProtocol.IsGrpc(request) && CallerBodyRead.IsStillArriving(request.BodyReader))
        {
            proxyRequest.Headers.ExpectContinue = true;
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Adds <c>Expect: 100-continue</c> to an HTTP/1.x upstream request (HTTP/2 answers early by itself).</summary>
    public static void AskToContinue(HttpRequestMessage proxyRequest)
    {
        if (CanAsk(proxyRequest))
        {
            proxyRequest.Headers.ExpectContinue = true;
        }
    }

    /// <summary>HTTP/1.x, and not already asked (the caller's own <c>Expect</c> is forwarded as it is).</summary>
    private static bool CanAsk(HttpRequestMessage proxyRequest) =>
        proxyRequest.Version.Major < 2 && proxyRequest.Headers.ExpectContinue != true;
}
