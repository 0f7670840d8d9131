namespace Sidecar.Simulation;

/// <summary>
/// One attempt at the simulated upstream: completed by the upstream's answer or by the attempt's timer, whichever
/// comes first. Continuations run on the <see cref="SimulationLoop"/> (the awaiting code captured it).
/// </summary>
internal sealed class UpstreamCall : TaskCompletionSource<UpstreamAnswer>
{
    /// <summary>
    /// Continuations are posted to the loop, never run inside the upstream's or the timer's callback: the model's
    /// state is consistent whenever the proxy's code runs.
    /// </summary>
    public UpstreamCall()
        : base(TaskCreationOptions.RunContinuationsAsynchronously)
    {
    }

    private CancellationTokenRegistration _abandoned;

    /// <summary>Makes the call end as <see cref="UpstreamAnswerKind.Abandoned"/> when <paramref name="attemptAborted"/> fires.</summary>
    public void AbandonOn(CancellationToken attemptAborted)
    {
        if (attemptAborted.CanBeCanceled)
        {
            _abandoned = attemptAborted.UnsafeRegister(static s => ((UpstreamCall)s!).TrySetResult(new UpstreamAnswer(UpstreamAnswerKind.Abandoned)), this);
        }
    }

    /// <summary>The answer the upstream drew for the call, given when its service ends.</summary>
    public UpstreamAnswer Drawn { get; set; }

    /// <summary>Completes the call with <paramref name="answer"/>; false when it was abandoned first.</summary>
    public bool Answer(UpstreamAnswer answer)
    {
        if (!TrySetResult(answer))
        {
            return false;
        }

        _abandoned.Dispose();
        return true;
    }
}
