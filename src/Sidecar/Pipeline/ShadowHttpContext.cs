using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using Sidecar.BodyReplay;
using Sidecar.Retries;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Pipeline;

/// <summary>
/// A copy of the caller's request on a fresh <see cref="HttpContext"/>, for a hedged attempt: YARP's forwarder and the
/// route's transforms run on it unchanged, and its response body goes into a pipe instead of to the caller.
/// </summary>
internal static class ShadowHttpContext
{
    public static HttpContext Create(HttpContext original, ReplayableRequestBody? body, RetryState state, Pipe responseBody, CancellationToken aborted)
    {
        var shadow = new DefaultHttpContext { RequestServices = original.RequestServices };
        var source = original.Request;
        var request = shadow.Request;
        request.Method = source.Method;
        request.Scheme = source.Scheme;
        request.Host = source.Host;
        request.PathBase = source.PathBase;
        request.Path = source.Path;
        request.QueryString = source.QueryString;
        request.Protocol = source.Protocol;
        // The raw target travels too, so a hedged attempt sends the path exactly as the caller did (RawRequestTarget).
        shadow.Features.Get<IHttpRequestFeature>()!.RawTarget = original.Features.Get<IHttpRequestFeature>()?.RawTarget ?? string.Empty;
        foreach (var header in source.Headers)
        {
            request.Headers[header.Key] = header.Value;
        }

        var canHaveBody = original.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false;
        request.Body = body?.OpenStream() ?? Stream.Null;
        shadow.Features.Set<IHttpRequestBodyDetectionFeature>(canHaveBody ? BodyDetection.WithBody : BodyDetection.WithoutBody);

        var connection = original.Connection;
        shadow.Connection.RemoteIpAddress = connection.RemoteIpAddress;
        shadow.Connection.RemotePort = connection.RemotePort;
        shadow.Connection.LocalIpAddress = connection.LocalIpAddress;
        shadow.Connection.LocalPort = connection.LocalPort;

        shadow.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(responseBody.Writer.AsStream()));
        shadow.RequestAborted = aborted;
        shadow.Features.Set(state);
        shadow.Features.Set(original.Features.Get<IReverseProxyFeature>());
        return shadow;
    }

    private sealed class BodyDetection(bool canHaveBody) : IHttpRequestBodyDetectionFeature
    {
        public static readonly BodyDetection WithBody = new(true);
        public static readonly BodyDetection WithoutBody = new(false);

        public bool CanHaveBody { get; } = canHaveBody;
    }
}
