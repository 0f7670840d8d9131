using Sidecar.Grpc;
using Sidecar.Http;
using Sidecar.Retries;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Pipeline;

/// <summary>
/// Tells the upstream where it stands: <c>x-sidecar-attempt</c>, <c>x-sidecar-last-attempt: true</c> on the
/// final one, and <c>x-sidecar-deadline-ms</c>, the milliseconds left, so it can give up on work nobody will wait for.
/// A gRPC call also gets gRPC's own: <c>grpc-timeout</c> replaced by the time this attempt really has (the caller's
/// value would promise the upstream time that the deadline, the per-try timeout or the backoff already took), and
/// <c>grpc-previous-rpc-attempts</c> on retries (gRFC A6). An attempt that starts while the caller is still uploading
/// asks for <c>100 Continue</c> (<see cref="RetryState.ExpectContinue"/>, <see cref="EarlyAnswerTransform"/>).
/// </summary>
internal sealed class AttemptHeadersTransform : RequestTransform
{
    private readonly TimeProvider _timeProvider;

    public AttemptHeadersTransform(TimeProvider timeProvider) => _timeProvider = timeProvider;

    public override ValueTask ApplyAsync(RequestTransformContext context)
    {
        var state = context.HttpContext.Features.Get<RetryState>();
        if (state is null)
        {
            return ValueTask.CompletedTask;
        }

        var headers = context.ProxyRequest.Headers;
        headers.TryAddWithoutValidation(SidecarHeaders.Attempt, SidecarHeaders.Number(state.Attempt));
        if (state.IsLastAttempt)
        {
            headers.TryAddWithoutValidation(SidecarHeaders.LastAttempt, "true");
        }

        if (state.HasDeadline)
        {
            var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), state.DeadlineTimestamp);
            var milliseconds = Math.Max(0, (long)remaining.TotalMilliseconds);
            headers.TryAddWithoutValidation(SidecarHeaders.DeadlineMs, milliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        if (state.ExpectContinue)
        {
            EarlyAnswerTransform.AskToContinue(context.ProxyRequest);
        }

        if (state.IsGrpc)
        {
            if (state.AttemptDeadlineTimestamp != long.MaxValue)
            {
                var remaining = _timeProvider.GetElapsedTime(_timeProvider.GetTimestamp(), state.AttemptDeadlineTimestamp);
                headers.Remove(GrpcProtocol.Timeout);
                headers.TryAddWithoutValidation(GrpcProtocol.Timeout, GrpcProtocol.FormatTimeout(remaining));
            }

            if (state.Attempt > 1)
            {
                headers.Remove(GrpcProtocol.PreviousRpcAttempts);
                headers.TryAddWithoutValidation(GrpcProtocol.PreviousRpcAttempts, SidecarHeaders.Number(state.Attempt - 1));
            }
        }

        return ValueTask.CompletedTask;
    }
}
