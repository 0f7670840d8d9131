using Sidecar.Configuration;

namespace Sidecar.Policies;

/// <summary>
/// A retry budget per cluster in the style of Envoy, Finagle and Linkerd: over the last <c>window</c>, retries may be at
/// most <c>ratio</c> of the upstream requests the cluster received (first attempts and retries together), and never
/// fewer than the floor of <c>min_per_second × window</c>. The default 0.2 thus means "at most one upstream request in
/// five is a retry": however many requests fail, retries add at most <c>ratio / (1 − ratio)</c> (0.25) load, so a
/// failing upstream is not hit by a retry storm, while a 20% failure rate can still be retried three times (it needs
/// 0.24). The floor keeps retries possible on a quiet cluster, where a ratio of a few requests is no retry at all.
/// Both choices follow Envoy's budget (retries counted among the active requests; <c>min_retry_concurrency</c> as a
/// lower bound) rather than Finagle's additive floor: the cap then reads as the share of the upstream's traffic that
/// is retries, a bound an operator sizing that upstream can rely on at any request rate.
/// <para>Counts live in a ring of one-second buckets, one ring for requests and one for retries. Each bucket is a
/// single <see cref="long"/> holding the second it counts (high 32 bits) and the count (low 32 bits), so a bucket is
/// claimed for a new second and counted in one compare-and-swap: lock-free, no allocation, no torn reset.
/// The window is whole seconds: the current second and the <c>window − 1</c> before it, 1 to
/// <see cref="RetryConstants.MaxBudgetWindowSeconds"/> seconds.</para>
/// </summary>
internal sealed class RetryBudget
{
    // A power of two above the longest window, so a bucket is never reused while it is still inside a window.
    private const int BucketCount = 64;
    private const long CountMask = 0xFFFF_FFFF;

    private readonly TimeProvider _timeProvider;
    private readonly long[] _requests = new long[BucketCount];
    private readonly long[] _retries = new long[BucketCount];

    /// <summary>Creates an empty budget.</summary>
    /// <param name="timeProvider">Its monotonic timestamp (<see cref="TimeProvider.GetTimestamp"/>) places counts in seconds.</param>
    public RetryBudget(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _timeProvider = timeProvider;
    }

    /// <summary>Counts one original request (not a retry) of the cluster; call once per request.</summary>
    public void RecordRequest() => _ = Increment(_requests, CurrentSecond());

    /// <summary>
    /// Takes one retry from the budget if there is room: allowed when the retries counted in the window, before
    /// this one, are fewer than <see cref="RetryAllowance"/> for the original requests in the window. An allowed retry
    /// is counted. With <see cref="BudgetOptions.Enabled"/> off it always allows (and still counts, so a reload that
    /// turns the budget on starts from the true load).
    /// </summary>
    /// <remarks>
    /// Callers racing for the last units never overdraw it: each counts its retry first and then checks the total,
    /// which includes everyone else's, undoing its count if the budget is exceeded (a race can only refuse too many).
    /// If the clock enters a new second during the call, the windows ending at each later second that still hold
    /// this retry are checked too: a retry counted by a caller that read the clock later lies in one of them.
    /// So no window ever holds more retries than the allowance of that window as some caller read it (with a ratio,
    /// requests counted concurrently can only raise it).
    /// </remarks>
    public bool TryAcquireRetry(BudgetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var second = CurrentSecond();
        var counted = Increment(_retries, second);
        if (!options.Enabled)
        {
            return true;
        }

        if (!counted)
        {
            return false;
        }

        var windowSeconds = WindowSeconds(options.Window);
        var lastEnd = Math.Min(CurrentSecond(), second + windowSeconds - 1);
        for (var end = second; end <= lastEnd; end++)
        {
            var retriesBefore = Sum(_retries, end, windowSeconds) - 1;
            if (!(retriesBefore < RetryAllowance(options, Sum(_requests, end, windowSeconds), windowSeconds)))
            {
                Decrement(_retries, second);
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The retries a window may hold for <paramref name="requests"/> original requests:
    /// <c>max(requests × ratio / (1 − ratio), min_per_second × window)</c>. Retries <c>R</c> within
    /// <c>ratio × (requests + R)</c> is the same bound as <c>R ≤ requests × ratio / (1 − ratio)</c>; a ratio of 1 (every
    /// upstream request may be a retry) is no bound at all.
    /// </summary>
    public static double RetryAllowance(BudgetOptions options, long requests, int windowSeconds)
    {
        ArgumentNullException.ThrowIfNull(options);
        var floor = (double)options.MinPerSecond * windowSeconds;
        if (options.Ratio >= 1)
        {
            return double.PositiveInfinity;
        }

        // Rounded so that 0.2 / 0.8 is exactly 0.25 per request: 12 requests allow 3 retries, not 3.0000000000000004.
        return Math.Max(Math.Round(requests * options.Ratio / (1 - options.Ratio), 9), floor);
    }

    /// <summary>Original requests counted in <paramref name="window"/> (whole seconds, as the budget sees them).</summary>
    public long RequestsInWindow(TimeSpan window) => Sum(_requests, CurrentSecond(), WindowSeconds(window));

    /// <summary>Retries counted in <paramref name="window"/> (whole seconds, as the budget sees them). While other threads
    /// call <see cref="TryAcquireRetry"/> this may include, for an instant, retries about to be refused and uncounted.</summary>
    public long RetriesInWindow(TimeSpan window) => Sum(_retries, CurrentSecond(), WindowSeconds(window));

    /// <summary>The window as whole seconds, rounded up and kept within 1..<see cref="RetryConstants.MaxBudgetWindowSeconds"/>.</summary>
    public static int WindowSeconds(TimeSpan window)
    {
        var seconds = (window.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        return (int)Math.Clamp(seconds, 1, RetryConstants.MaxBudgetWindowSeconds);
    }

    private long CurrentSecond() => _timeProvider.GetTimestamp() / _timeProvider.TimestampFrequency;

    private static long EpochBits(long second) => (long)((ulong)(uint)second << 32);

    private static ref long Bucket(long[] buckets, long second) => ref buckets[(int)(second & (BucketCount - 1))];

    private static bool Increment(long[] buckets, long second)
    {
        ref var bucket = ref Bucket(buckets, second);
        var epoch = EpochBits(second);
        var current = Volatile.Read(ref bucket);
        while (true)
        {
            long next;
            if ((current & ~CountMask) == epoch)
            {
                if ((current & CountMask) == CountMask)
                {
                    return false;
                }

                next = current + 1;
            }
            else if (current == 0 || (int)((uint)((ulong)current >> 32) - (uint)second) < 0)
            {
                // The bucket is unused, or holds an older second: claim it for this one, starting at 1. (An unused
                // bucket must not be compared: to a clock whose seconds exceed 2^31, as a time provider counting from
                // year 1 has, second 0 looks newer, and the budget would refuse everything.)
                next = epoch | 1;
            }
            else
            {
                // A thread that read the clock long ago lost the race to a newer second; its count has aged out anyway.
                return false;
            }

            var seen = Interlocked.CompareExchange(ref bucket, next, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }
    }

    private static void Decrement(long[] buckets, long second)
    {
        ref var bucket = ref Bucket(buckets, second);
        var epoch = EpochBits(second);
        var current = Volatile.Read(ref bucket);
        while ((current & ~CountMask) == epoch && (current & CountMask) > 0)
        {
            var seen = Interlocked.CompareExchange(ref bucket, current - 1, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    private static long Sum(long[] buckets, long second, int windowSeconds)
    {
        long total = 0;
        for (var i = 0; i < windowSeconds; i++)
        {
            var value = Volatile.Read(ref Bucket(buckets, second - i));
            if ((value & ~CountMask) == EpochBits(second - i))
            {
                total += value & CountMask;
            }
        }

        return total;
    }
}
