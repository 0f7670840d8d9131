using Sidecar.Grpc;
using Sidecar.Http;

namespace Sidecar.Retries;

/// <summary>
/// The delay the upstream asked for, under the policy's <c>retry_after</c> (<c>honor</c>, capped by <c>max</c>):
/// <c>x-sidecar-retry-pushback-ms</c> first (it is specific to us), then for a gRPC call <c>grpc-retry-pushback-ms</c>
/// (gRFC A6: a malformed value means "do not retry", as for gRPC's own clients), then <c>Retry-After</c> on 429/503.
/// A "do not retry" pushback is obeyed even when <c>honor</c> is false: it can only lower the load on the upstream.
/// </summary>
internal static class ServerDirectedDelay
{
    /// <returns>The delay, already capped (null for none), and whether the upstream forbade a retry.</returns>
    public static (TimeSpan? Delay, bool Forbids) Read(RetryState state, HttpResponseMessage response, DateTimeOffset now)
    {
        var retryAfter = state.Plan.Options.RetryAfter;
        if (response.Headers.NonValidated.TryGetValues(SidecarHeaders.RetryPushbackMs, out var pushback)
            && PushbackParser.TryParse(pushback.ToString(), out var pushbackDelay, out var stop))
        {
            if (stop)
            {
                return (null, true);
            }

            return (retryAfter.Honor ? Cap(pushbackDelay, retryAfter.Max) : null, false);
        }

        if (state.IsGrpc && response.Headers.NonValidated.TryGetValues(GrpcProtocol.RetryPushbackMs, out var grpcPushback))
        {
            if (!PushbackParser.TryParseGrpc(grpcPushback.Count == 1 ? grpcPushback.ToString() : null, out var grpcDelay))
            {
                return (null, true);
            }

            return (retryAfter.Honor ? Cap(grpcDelay, retryAfter.Max) : null, false);
        }

        if (retryAfter.Honor && (int)response.StatusCode is 429 or 503
            && response.Headers.NonValidated.TryGetValues("Retry-After", out var values)
            && RetryAfterParser.TryParse(values.ToString(), now, out var delay))
        {
            return (Cap(delay, retryAfter.Max), false);
        }

        return (null, false);
    }

    private static TimeSpan Cap(TimeSpan delay, TimeSpan max) => delay > max ? max : delay;
}
