using Sidecar.Configuration;

namespace Sidecar.Policies;

/// <summary>
/// The delays before the retries of one policy: an algorithm gives the un-jittered delay of each retry, jitter
/// spreads it, and everything is clamped to <c>[0, max]</c>. Pure and immutable: build one per policy snapshot
/// and share it; randomness comes from the caller. Retry numbers are 1-based (retry 1 is the wait before attempt 2).
/// <para>Un-jittered delay <c>d(n)</c> of retry <c>n</c>, with <c>b</c> = base, <c>M</c> = max, <c>R</c> = maxAttempts − 1,
/// always clamped to <c>M</c>:</para>
/// <list type="bullet">
/// <item><description><c>constant</c>: <c>b</c></description></item>
/// <item><description><c>linear</c>: <c>b·n</c></description></item>
/// <item><description><c>exponential</c>: <c>b·multiplier^(n−1)</c></description></item>
/// <item><description><c>fibonacci</c>: <c>b·fib(n)</c>, fib = 1, 1, 2, 3, 5, 8…</description></item>
/// <item><description><c>range</c> (Coflux <c>retries=(N, min, max)</c>): geometric interpolation from <c>b</c> at retry 1 to
/// <c>M</c> at retry <c>R</c>, <c>b·(M/b)^((n−1)/(R−1))</c>, so each gap is a constant factor wider than the last.
/// With one retry it is <c>b</c>; retries past <c>R</c> get <c>M</c>. With <c>b</c> = 0 the ratio is undefined, so the gaps
/// double instead: <c>M·(2^(n−1) − 1)/(2^(R−1) − 1)</c>.</description></item>
/// </list>
/// <para>Jitter, with <c>r</c> the caller's random number in [0, 1] and <c>f</c> = jitter_factor:</para>
/// <list type="bullet">
/// <item><description><c>none</c>: <c>d</c></description></item>
/// <item><description><c>full</c> (AWS "Full Jitter" when f = 1): <c>d·(1−f) + r·d·f</c>, in <c>[d·(1−f), d]</c></description></item>
/// <item><description><c>equal</c> (AWS "Equal Jitter" when f = 1): <c>d·(1−f/2) + r·d·f/2</c>, in <c>[d·(1−f/2), d]</c></description></item>
/// <item><description><c>decorrelated</c> (AWS "Decorrelated Jitter"): <c>min(M, b + r·(3·p − b))</c> with <c>p</c> the previous
/// delay (<c>b</c> before retry 1). It ignores the algorithm and <c>f</c>: its growth comes from <c>p</c>. <c>p</c> is clamped to
/// <c>[b, min(M, b·3^(n−1))]</c>, the range an honest previous delay has, so <see cref="Bounds"/> holds whatever the caller passes.</description></item>
/// </list>
/// Arithmetic is done in <see cref="double"/> ticks, which saturates to infinity instead of overflowing, and is
/// compared with <c>M</c> before it becomes a <see cref="TimeSpan"/>, so no retry number can overflow; results are rounded to the nearest tick.
/// </summary>
internal sealed class BackoffSchedule
{
    // fib(93) exceeds long.MaxValue ticks, so from there on every delay with a non-zero base is clamped to max.
    private static readonly double[] Fibonacci = CreateFibonacci(94);

    private readonly BackoffAlgorithm _algorithm;
    private readonly JitterMode _jitter;
    private readonly double _baseTicks;
    private readonly double _maxTicks;
    private readonly double _multiplier;
    private readonly double _jitterFactor;
    private readonly double _rangeRatio;
    private readonly TimeSpan _max;

    /// <summary>Builds the schedule of a policy.</summary>
    /// <param name="options">The policy's <c>backoff:</c>.</param>
    /// <param name="maxAttempts">The policy's <c>max_attempts</c> (first try included); <c>range</c> spreads its delays over <c>maxAttempts − 1</c> retries.</param>
    /// <exception cref="ArgumentException">The options are impossible; <see cref="BackoffRules.Validate"/> says why.</exception>
    public BackoffSchedule(BackoffOptions options, int maxAttempts)
    {
        ArgumentNullException.ThrowIfNull(options);
        var error = BackoffRules.Validate(options, maxAttempts);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(options));
        }

        Options = options;
        MaxAttempts = maxAttempts;
        _algorithm = options.Algorithm;
        _jitter = options.Jitter;
        _max = options.Max;
        _baseTicks = options.Base.Ticks;
        _maxTicks = options.Max.Ticks;
        _multiplier = options.Multiplier;
        _jitterFactor = options.JitterFactor;
        _rangeRatio = _baseTicks > 0 ? _maxTicks / _baseTicks : 0;
    }

    /// <summary>The options this schedule was built from.</summary>
    public BackoffOptions Options { get; }

    /// <summary>Attempts including the first.</summary>
    public int MaxAttempts { get; }

    /// <summary>Retries the policy allows: <see cref="MaxAttempts"/> − 1. The last retry of <c>range</c> waits <c>max</c>.</summary>
    public int MaxRetries => MaxAttempts - 1;

    /// <summary>The un-jittered delay before retry <paramref name="retry"/> (see the type's remarks), clamped to <c>max</c>.</summary>
    /// <param name="retry">1-based retry number; any value ≥ 1 is valid.</param>
    public TimeSpan BaseDelay(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        return ToTimeSpan(BaseDelayTicks(retry));
    }

    /// <summary>The jittered delay to wait before retry <paramref name="retry"/> (see the type's remarks). Always within <see cref="Bounds"/>.</summary>
    /// <param name="retry">1-based retry number.</param>
    /// <param name="previousDelay">The delay this schedule returned for the previous retry; only <c>decorrelated</c> uses it, and any value (such as <see cref="TimeSpan.Zero"/>) is fine for retry 1.</param>
    /// <param name="random01">A random number in [0, 1), usually <see cref="IRandomSource.NextDouble"/>. Values outside [0, 1] are clamped into it and NaN is read as 0.</param>
    public TimeSpan NextDelay(int retry, TimeSpan previousDelay, double random01)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        var random = random01 >= 0 ? Math.Min(random01, 1) : 0;
        return ToTimeSpan(JitteredTicks(retry, previousDelay.Ticks, random));
    }

    /// <summary>The smallest and largest delay <see cref="NextDelay"/> can return for <paramref name="retry"/>, for any random
    /// number and any previous delay; <c>sidecar validate</c> prints them as the schedule.</summary>
    /// <param name="retry">1-based retry number.</param>
    public (TimeSpan Min, TimeSpan Max) Bounds(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);

        // The jitter formulas are monotone in the random number and in the (clamped) previous delay,
        // so their ends are the extremes; computing them through the same code keeps the rounding identical.
        var min = ToTimeSpan(JitteredTicks(retry, 0, 0));
        var max = ToTimeSpan(JitteredTicks(retry, long.MaxValue, 1));
        return (min, max);
    }

    private double JitteredTicks(int retry, long previousTicks, double random)
    {
        switch (_jitter)
        {
            case JitterMode.Full:
                {
                    double delay = ToTimeSpan(BaseDelayTicks(retry)).Ticks;
                    return (delay * (1 - _jitterFactor)) + (random * delay * _jitterFactor);
                }

            case JitterMode.Equal:
                {
                    double delay = ToTimeSpan(BaseDelayTicks(retry)).Ticks;
                    var half = _jitterFactor / 2;
                    return (delay * (1 - half)) + (random * delay * half);
                }

            case JitterMode.Decorrelated:
                {
                    if (_baseTicks == 0)
                    {
                        return 0;
                    }

                    // The previous delay can be at most 3^(n-1)·base (and max); clamping to that keeps Bounds true.
                    var ceiling = Math.Min(_maxTicks, _baseTicks * Math.Pow(3, retry - 1));
                    var previous = Math.Clamp(previousTicks, _baseTicks, ceiling);
                    return _baseTicks + (random * ((3 * previous) - _baseTicks));
                }

            default:
                return BaseDelayTicks(retry);
        }
    }

    private double BaseDelayTicks(int retry)
    {
        if (_baseTicks == 0 && _algorithm != BackoffAlgorithm.Range)
        {
            // Every algorithm but range multiplies the base; skip the multiplication, which could be 0·∞.
            return 0;
        }

        switch (_algorithm)
        {
            case BackoffAlgorithm.Constant:
                return _baseTicks;
            case BackoffAlgorithm.Linear:
                return _baseTicks * retry;
            case BackoffAlgorithm.Exponential:
                return _baseTicks * Math.Pow(_multiplier, retry - 1);
            case BackoffAlgorithm.Fibonacci:
                return retry < Fibonacci.Length ? _baseTicks * Fibonacci[retry] : double.PositiveInfinity;
            default:
                return RangeTicks(retry);
        }
    }

    private double RangeTicks(int retry)
    {
        var lastRetry = MaxRetries;
        if (retry == 1)
        {
            return _baseTicks;
        }

        if (retry >= lastRetry)
        {
            return _maxTicks;
        }

        // 1 < retry < lastRetry, so lastRetry >= 3 here.
        var step = retry - 1;
        var steps = lastRetry - 1;
        if (_baseTicks > 0)
        {
            return _baseTicks * Math.Pow(_rangeRatio, (double)step / steps);
        }

        // (2^step − 1)/(2^steps − 1), rewritten with powers ≤ 1 so a huge steps cannot give ∞/∞.
        var tail = Math.Pow(2, -steps);
        return _maxTicks * (Math.Pow(2, step - steps) - tail) / (1 - tail);
    }

    private TimeSpan ToTimeSpan(double ticks)
    {
        if (!(ticks > 0))
        {
            return TimeSpan.Zero;
        }

        // Compare before converting: a double at or above 2^63 has no long value.
        var rounded = Math.Round(ticks);
        return rounded < _maxTicks ? TimeSpan.FromTicks((long)rounded) : _max;
    }

    private static double[] CreateFibonacci(int count)
    {
        var fibonacci = new double[count];
        fibonacci[1] = 1;
        for (var i = 2; i < count; i++)
        {
            fibonacci[i] = fibonacci[i - 1] + fibonacci[i - 2];
        }

        return fibonacci;
    }
}
