namespace Sidecar.Simulation;

/// <summary>One interval of a run's timeline: calls that ended in it, how many succeeded, attempts sent, and the most requests at the upstream at once.</summary>
internal sealed class TimelineBucket
{
    public long Calls { get; set; }

    public long Successes { get; set; }

    public long Attempts { get; set; }

    public int PeakUpstreamInFlight { get; set; }

    public double? Success => Calls == 0 ? null : (double)Successes / Calls;

    public double? Amplification => Calls == 0 ? null : (double)Attempts / Calls;
}
