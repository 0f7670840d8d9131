using System.Text;
using Sidecar.Telemetry;

namespace Sidecar.Logging;

/// <summary>
/// What one route did since its last summary line: retries by reason, retries refused or skipped by reason, requests
/// that ran out of attempts or got no upstream response. Counting is a lock-free increment into fixed slots (no
/// allocation, no key a caller controls); <see cref="Collect"/> reads and resets them once per summary interval.
/// </summary>
internal sealed class RouteLogCounters
{
    // A retry reason is a status code (100..599, counted in its own slot) or one of the named reasons, whose slots
    // lie below 100 where no status can be. Slot 0 counts a reason this table does not know (a new one, in a test).
    private const int StatusSlots = 600;
    private static readonly string[] NamedReasons = ["other", .. RetryReason.Named];

    // One slot per skip reason; the budget's slot stays empty, its refusals are counted on their own.
    private static readonly int SkipSlots = RetrySkipReasons.All.Count;

    private readonly long[] _retries = new long[StatusSlots];
    private readonly long[] _skipped = new long[SkipSlots];
    private long _budgetRefused;
    private long _exhausted;
    private long _noResponse;

    public RouteLogCounters(string route, ClusterLogState cluster)
    {
        Route = route;
        Cluster = cluster;
    }

    public string Route { get; }

    public ClusterLogState Cluster { get; }

    /// <summary>Set when a reload removed the route: its counts are summarized once more, then it is forgotten.</summary>
    internal bool Retired { get; set; }

    /// <summary>A retry was scheduled; <paramref name="reason"/> is a <see cref="RetryReason"/> or a status code.</summary>
    public void Retried(string reason) => Interlocked.Increment(ref _retries[ReasonSlot(reason)]);

    /// <summary>A wanted retry was not made (<see cref="RetrySkipReason"/>); a budget refusal also tells the cluster.</summary>
    public void Skipped(RetrySkipReason reason)
    {
        if (reason == RetrySkipReason.Budget)
        {
            Interlocked.Increment(ref _budgetRefused);
            Cluster.BudgetRefused();
            return;
        }

        Interlocked.Increment(ref _skipped[(int)reason]);
    }

    /// <summary>A request ended with its attempts used up (outcome <c>exhausted</c>).</summary>
    public void Exhausted() => Interlocked.Increment(ref _exhausted);

    /// <summary>Sidecar answered a request itself (502/503/504) because no attempt produced a usable response.</summary>
    public void NoResponse() => Interlocked.Increment(ref _noResponse);

    /// <summary>Takes the counts since the last call and starts again from zero; <c>null</c> when nothing happened.</summary>
    public RouteLogSummary? Collect(TimeSpan interval)
    {
        long retries = 0, skipped = 0;
        StringBuilder? retryReasons = null, skipReasons = null;
        for (var slot = 0; slot < _retries.Length; slot++)
        {
            if (Interlocked.Exchange(ref _retries[slot], 0) is var count and > 0)
            {
                retries += count;
                Append(ref retryReasons, slot < NamedReasons.Length ? NamedReasons[slot] : slot.ToString(System.Globalization.CultureInfo.InvariantCulture), count);
            }
        }

        for (var slot = 0; slot < _skipped.Length; slot++)
        {
            if (Interlocked.Exchange(ref _skipped[slot], 0) is var count and > 0)
            {
                skipped += count;
                Append(ref skipReasons, ((RetrySkipReason)slot).Label(), count);
            }
        }

        var budgetRefused = Interlocked.Exchange(ref _budgetRefused, 0);
        var exhausted = Interlocked.Exchange(ref _exhausted, 0);
        var noResponse = Interlocked.Exchange(ref _noResponse, 0);
        if (retries == 0 && skipped == 0 && budgetRefused == 0 && exhausted == 0 && noResponse == 0)
        {
            return null;
        }

        return new RouteLogSummary(
            Route,
            Cluster.ClusterName,
            interval,
            retries,
            retryReasons?.ToString() ?? RouteLogSummary.NoReasons,
            exhausted,
            budgetRefused,
            skipped,
            skipReasons?.ToString() ?? RouteLogSummary.NoReasons,
            noResponse);
    }

    private static void Append(ref StringBuilder? reasons, string reason, long count)
    {
        reasons = reasons is null ? new StringBuilder() : reasons.Append(',');
        reasons.Append(reason).Append('=').Append(count);
    }

    private static int ReasonSlot(string reason)
    {
        if (reason.Length == 3 && char.IsAsciiDigit(reason[0]) && char.IsAsciiDigit(reason[1]) && char.IsAsciiDigit(reason[2]))
        {
            var status = ((reason[0] - '0') * 100) + ((reason[1] - '0') * 10) + (reason[2] - '0');
            return status is >= 100 and < StatusSlots ? status : 0;
        }

        var named = RetryReason.Named;
        for (var i = 0; i < named.Count; i++)
        {
            if (string.Equals(named[i], reason, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }

        return 0;
    }
}
