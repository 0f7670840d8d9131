namespace Sidecar.Retries;

/// <summary>
/// The cancellation of one attempt: cancelled when the caller goes away or when the attempt's time is up (its
/// per-try timeout, or what is left of the deadline), measured on the injected <see cref="TimeProvider"/> so a fake
/// clock drives it in tests. It links itself to the caller's token the way
/// <see cref="CancellationTokenSource.CreateLinkedTokenSource(CancellationToken)"/> does, in one object (YARP's
/// <c>ActivityCancellationTokenSource</c> is built the same way); a linked source would arm its timer on the
/// system clock whatever time provider is configured.
/// </summary>
internal sealed class AttemptCancellationSource : CancellationTokenSource
{
    private CancellationTokenRegistration _callerLeft;

    private AttemptCancellationSource()
    {
    }

    private AttemptCancellationSource(TimeSpan timeout, TimeProvider timeProvider)
        : base(timeout, timeProvider)
    {
    }

    /// <summary>Creates the source for an attempt.</summary>
    /// <param name="requestAborted">The caller's token: cancelling it cancels the attempt.</param>
    /// <param name="timeout">How long the attempt may take; <c>null</c> for no limit. Zero or less cancels at once.</param>
    /// <param name="timeProvider">The clock the timeout runs on.</param>
    public static AttemptCancellationSource Create(CancellationToken requestAborted, TimeSpan? timeout, TimeProvider timeProvider)
    {
        var source = timeout is { } t ? new AttemptCancellationSource(t > TimeSpan.Zero ? t : TimeSpan.Zero, timeProvider) : new AttemptCancellationSource();
        source._callerLeft = requestAborted.UnsafeRegister(static s => ((AttemptCancellationSource)s!).Cancel(), source);
        return source;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Waits for a callback already running, so Cancel never runs on a disposed source.
            _callerLeft.Dispose();
        }

        base.Dispose(disposing);
    }
}
