namespace Sidecar.Retries;

/// <summary>
/// The request's deadline and each attempt's time, on the injected clock: the deadline is the tighter of the policy's
/// <c>timeout</c> and the caller's, and every attempt, retried or hedged, gets <c>min(per_try_timeout, time left)</c>.
/// </summary>
internal static class AttemptTiming
{
    /// <summary>
    /// The deadline of a request that arrived at <paramref name="start"/>, from its route's policy
    /// (<paramref name="options"/>, null for a route without one) and its caller's headers: the policy's <c>timeout</c>,
    /// <c>x-sidecar-timeout-ms</c> where the policy allows overrides, and <c>grpc-timeout</c> on any route.
    /// </summary>
    public static long Deadline(TimeProvider time, long start, Configuration.RetryPolicyOptions? options, IHeaderDictionary headers) =>
        Deadline(time, start, options?.Timeout, ControlHeaders.CallerTimeout(headers, options?.AllowOverrides == true));

    /// <summary>The deadline as a <see cref="TimeProvider.GetTimestamp"/> value; <see cref="long.MaxValue"/> for none.</summary>
    public static long Deadline(TimeProvider time, long start, TimeSpan? policyTimeout, TimeSpan? callerTimeout)
    {
        var timeout = policyTimeout;
        if (callerTimeout is { } caller && (timeout is null || caller < timeout))
        {
            timeout = caller;
        }

        return timeout is { } value ? start + (long)(value.TotalSeconds * time.TimestampFrequency) : long.MaxValue;
    }

    /// <summary>
    /// Arms the timer of the attempt <paramref name="state"/> begins at <paramref name="now"/>: it fires when the
    /// caller leaves or the attempt's time is up, and <see cref="RetryState.AttemptDeadlineTimestamp"/> says when that is.
    /// </summary>
    public static AttemptCancellationSource Arm(TimeProvider time, RetryState state, long now, CancellationToken requestAborted)
    {
        var attemptTime = AttemptTime(time, state, now);
        var timer = AttemptCancellationSource.Create(requestAborted, attemptTime, time);
        state.Arm(timer, attemptTime is { } t ? now + (long)(t.TotalSeconds * time.TimestampFrequency) : long.MaxValue);
        return timer;
    }

    private static TimeSpan? AttemptTime(TimeProvider time, RetryState state, long now)
    {
        var perTry = state.Plan.Options.PerTryTimeout;
        if (!state.HasDeadline)
        {
            return perTry;
        }

        var remaining = time.GetElapsedTime(now, state.DeadlineTimestamp);
        return perTry is { } p && p < remaining ? p : remaining;
    }
}
