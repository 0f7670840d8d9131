using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Tests.Policies;

public sealed class BackoffScheduleTests
{
    private static readonly BackoffAlgorithm[] Algorithms = Enum.GetValues<BackoffAlgorithm>();
    private static readonly JitterMode[] JitterModes = Enum.GetValues<JitterMode>();

    [Theory]
    [InlineData("Constant", 100, 1000, 2.0, 5, new double[] { 100, 100, 100, 100, 100, 100 })]
    [InlineData("Constant", 100, 100, 2.0, 3, new double[] { 100, 100, 100 })]
    [InlineData("Linear", 100, 350, 2.0, 5, new double[] { 100, 200, 300, 350, 350 })]
    [InlineData("Exponential", 50, 1000, 2.0, 3, new double[] { 50, 100, 200, 400, 800, 1000, 1000 })]
    [InlineData("Exponential", 100, 10000, 1.5, 3, new double[] { 100, 150, 225, 337.5, 506.25 })]
    [InlineData("Exponential", 100, 1000, 1.0, 3, new double[] { 100, 100, 100 })]
    [InlineData("Exponential", 10, 100000, 10.0, 3, new double[] { 10, 100, 1000, 10000, 100000, 100000 })]
    [InlineData("Fibonacci", 10, 100, 2.0, 3, new double[] { 10, 10, 20, 30, 50, 80, 100, 100 })]
    [InlineData("Range", 100, 800, 2.0, 5, new double[] { 100, 200, 400, 800, 800, 800 })]
    [InlineData("Range", 1000, 9000, 2.0, 4, new double[] { 1000, 3000, 9000, 9000 })]
    [InlineData("Range", 100, 100, 2.0, 4, new double[] { 100, 100, 100, 100 })]
    [InlineData("Range", 100, 800, 2.0, 2, new double[] { 100, 800 })]
    [InlineData("Range", 100, 800, 2.0, 3, new double[] { 100, 800, 800 })]
    [InlineData("Range", 100, 800, 2.0, 1, new double[] { 100, 800 })]
    [InlineData("Range", 0, 700, 2.0, 5, new double[] { 0, 100, 300, 700, 700 })]
    [InlineData("Linear", 0, 700, 2.0, 5, new double[] { 0, 0, 0 })]
    public void BaseDelay_Algorithm_GivesExactSchedule(string algorithm, double baseMs, double maxMs, double multiplier, int maxAttempts, double[] expectedMs)
    {
        var schedule = new BackoffSchedule(Options(Enum.Parse<BackoffAlgorithm>(algorithm), baseMs, maxMs, multiplier: multiplier), maxAttempts);

        for (var retry = 1; retry <= expectedMs.Length; retry++)
        {
            Assert.Equal(TimeSpan.FromMilliseconds(expectedMs[retry - 1]), schedule.BaseDelay(retry));
        }
    }

    [Fact]
    public void BaseDelay_DefaultOptions_DoubleFrom50msUpTo1s()
    {
        var schedule = new BackoffSchedule(new BackoffOptions(), ConfigDefaults.MaxAttempts);

        Assert.Equal(TimeSpan.FromMilliseconds(50), schedule.BaseDelay(1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), schedule.BaseDelay(2));
        Assert.Equal(TimeSpan.FromMilliseconds(800), schedule.BaseDelay(5));
        Assert.Equal(TimeSpan.FromSeconds(1), schedule.BaseDelay(6));
    }

    [Theory]
    [InlineData(1, 9, 11)]
    [InlineData(3, 60000, 7)]
    [InlineData(50, 30000, 20)]
    [InlineData(1, 1000, 1000)]
    public void BaseDelay_Range_StartsAtBaseEndsAtMaxWithGrowingGaps(double baseMs, double maxMs, int maxAttempts)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Range, baseMs, maxMs), maxAttempts);

        Assert.Equal(TimeSpan.FromMilliseconds(baseMs), schedule.BaseDelay(1));
        Assert.Equal(TimeSpan.FromMilliseconds(maxMs), schedule.BaseDelay(maxAttempts - 1));
        var previousGap = TimeSpan.Zero;
        for (var retry = 2; retry < maxAttempts; retry++)
        {
            var gap = schedule.BaseDelay(retry) - schedule.BaseDelay(retry - 1);
            Assert.True(gap > TimeSpan.Zero, $"retry {retry}: gap {gap}");

            // Rounding to ticks may shave one tick off a gap.
            Assert.True(gap.Ticks >= previousGap.Ticks - 1, $"retry {retry}: gap {gap} < previous {previousGap}");
            previousGap = gap;
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(92)]
    [InlineData(93)]
    [InlineData(94)]
    [InlineData(95)]
    [InlineData(1_000)]
    [InlineData(int.MaxValue)]
    public void BaseDelay_HugeRetryNumbers_ClampToMaxWithoutOverflow(int retry)
    {
        foreach (var algorithm in Algorithms)
        {
            var schedule = new BackoffSchedule(Options(algorithm, 1, 60000, multiplier: 3), 3);
            var delay = schedule.BaseDelay(retry);
            Assert.InRange(delay, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
            if (algorithm == BackoffAlgorithm.Linear)
            {
                Assert.Equal(TimeSpan.FromMilliseconds(Math.Min(retry, 60000)), delay);
            }
            else if (retry >= 64 && algorithm != BackoffAlgorithm.Constant)
            {
                Assert.Equal(TimeSpan.FromMinutes(1), delay);
            }
        }
    }

    [Fact]
    public void BaseDelay_MaxIsTimeSpanMaxValue_SaturatesWithoutOverflow()
    {
        foreach (var algorithm in Algorithms)
        {
            var options = Options(algorithm, 1, 0, multiplier: 10) with { Base = TimeSpan.FromTicks(1), Max = TimeSpan.MaxValue };
            var schedule = new BackoffSchedule(options, int.MaxValue);

            foreach (var retry in new[] { 1, 2, 30, 62, 63, 64, 100, 1_000_000, int.MaxValue - 1, int.MaxValue })
            {
                var delay = schedule.BaseDelay(retry);
                Assert.InRange(delay, TimeSpan.FromTicks(1), TimeSpan.MaxValue);
                var (min, max) = schedule.Bounds(retry);
                Assert.InRange(min, TimeSpan.Zero, max);
            }

            if (algorithm is BackoffAlgorithm.Exponential or BackoffAlgorithm.Fibonacci or BackoffAlgorithm.Range)
            {
                Assert.Equal(TimeSpan.MaxValue, schedule.BaseDelay(int.MaxValue));
            }
        }
    }

    [Fact]
    public void BaseDelay_ZeroBase_IsZeroForEveryRetry()
    {
        foreach (var algorithm in new[] { BackoffAlgorithm.Constant, BackoffAlgorithm.Linear, BackoffAlgorithm.Exponential, BackoffAlgorithm.Fibonacci })
        {
            var schedule = new BackoffSchedule(Options(algorithm, 0, 1000, multiplier: 1e300), 5);
            Assert.Equal(TimeSpan.Zero, schedule.BaseDelay(1));
            Assert.Equal(TimeSpan.Zero, schedule.BaseDelay(int.MaxValue));
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Members_RetryBelowOne_Throw(int retry)
    {
        var schedule = new BackoffSchedule(new BackoffOptions(), 3);

        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.BaseDelay(retry));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.NextDelay(retry, TimeSpan.Zero, 0.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Bounds(retry));
    }

    [Theory]
    [InlineData(0.0, 100)]
    [InlineData(0.5, 100)]
    [InlineData(0.999999, 100)]
    public void NextDelay_NoJitter_IsBaseDelay(double random, double expectedMs)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Constant, 100, 1000, jitter: JitterMode.None), 3);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.NextDelay(1, TimeSpan.Zero, random));
    }

    [Theory]
    [InlineData("Full", 1.0, 0.0, 0)]
    [InlineData("Full", 1.0, 0.25, 25)]
    [InlineData("Full", 1.0, 0.5, 50)]
    [InlineData("Full", 1.0, 1.0, 100)]
    [InlineData("Full", 0.5, 0.0, 50)]
    [InlineData("Full", 0.5, 0.5, 75)]
    [InlineData("Full", 0.5, 1.0, 100)]
    [InlineData("Full", 0.0, 0.3, 100)]
    [InlineData("Equal", 1.0, 0.0, 50)]
    [InlineData("Equal", 1.0, 0.5, 75)]
    [InlineData("Equal", 1.0, 1.0, 100)]
    [InlineData("Equal", 0.5, 0.0, 75)]
    [InlineData("Equal", 0.5, 0.4, 85)]
    [InlineData("Equal", 0.0, 0.9, 100)]
    public void NextDelay_FullAndEqualJitter_FollowFormula(string jitter, double factor, double random, double expectedMs)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Constant, 100, 1000, jitter: Enum.Parse<JitterMode>(jitter), jitterFactor: factor), 3);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.NextDelay(1, TimeSpan.Zero, random));
    }

    [Fact]
    public void NextDelay_FullJitter_AppliesToTheAlgorithmsDelay()
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Exponential, 100, 1000, jitter: JitterMode.Full), 5);

        Assert.Equal(TimeSpan.FromMilliseconds(200), schedule.NextDelay(3, TimeSpan.Zero, 0.5));
        Assert.Equal(TimeSpan.FromMilliseconds(500), schedule.NextDelay(10, TimeSpan.Zero, 0.5));
    }

    [Theory]
    [InlineData(1, 0, 0.0, 100)]
    [InlineData(1, 0, 0.5, 200)]
    [InlineData(1, 0, 1.0, 300)]
    [InlineData(1, 5000, 1.0, 300)]
    [InlineData(2, 200, 0.5, 350)]
    [InlineData(2, 300, 1.0, 900)]
    [InlineData(2, 50, 0.5, 200)]
    [InlineData(3, 900, 1.0, 1000)]
    [InlineData(3, 900, 0.0, 100)]
    [InlineData(3, 2000, 0.3, 880)]
    public void NextDelay_Decorrelated_FollowsAwsFormulaWithClampedPrevious(int retry, double previousMs, double random, double expectedMs)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Constant, 100, 1000, jitter: JitterMode.Decorrelated), 10);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.NextDelay(retry, TimeSpan.FromMilliseconds(previousMs), random));
    }

    [Fact]
    public void NextDelay_DecorrelatedZeroBase_IsZero()
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Constant, 0, 1000, jitter: JitterMode.Decorrelated), 10);

        Assert.Equal(TimeSpan.Zero, schedule.NextDelay(5, TimeSpan.FromSeconds(1), 0.9));
        Assert.Equal((TimeSpan.Zero, TimeSpan.Zero), schedule.Bounds(5));
    }

    [Theory]
    [InlineData(double.NaN, 0)]
    [InlineData(-0.5, 0)]
    [InlineData(double.NegativeInfinity, 0)]
    [InlineData(1.0, 100)]
    [InlineData(1.5, 100)]
    [InlineData(double.PositiveInfinity, 100)]
    public void NextDelay_RandomOutsideUnitInterval_IsClamped(double random, double expectedMs)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Constant, 100, 1000, jitter: JitterMode.Full), 3);

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), schedule.NextDelay(1, TimeSpan.Zero, random));
    }

    [Fact]
    public void NextDelay_RandomJustBelowOne_StaysAtOrBelowBaseDelay()
    {
        var almostOne = double.BitDecrement(1.0);
        foreach (var jitter in JitterModes)
        {
            var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Exponential, 30, 700, jitter: jitter, jitterFactor: 0.7), 5);
            for (var retry = 1; retry < 10; retry++)
            {
                var delay = schedule.NextDelay(retry, schedule.Bounds(retry).Max, almostOne);
                Assert.Equal(schedule.Bounds(retry).Max, delay);
            }
        }
    }

    [Theory]
    [InlineData("None", 1.0, 1, 100, 100)]
    [InlineData("None", 1.0, 4, 800, 800)]
    [InlineData("Full", 1.0, 1, 0, 100)]
    [InlineData("Full", 1.0, 5, 0, 1000)]
    [InlineData("Full", 0.2, 2, 160, 200)]
    [InlineData("Equal", 1.0, 3, 200, 400)]
    [InlineData("Equal", 0.5, 3, 300, 400)]
    [InlineData("Decorrelated", 1.0, 1, 100, 300)]
    [InlineData("Decorrelated", 1.0, 2, 100, 900)]
    [InlineData("Decorrelated", 1.0, 3, 100, 1000)]
    [InlineData("Decorrelated", 1.0, 1000, 100, 1000)]
    public void Bounds_PerJitterMode_AreExact(string jitter, double factor, int retry, double minMs, double maxMs)
    {
        var schedule = new BackoffSchedule(Options(BackoffAlgorithm.Exponential, 100, 1000, jitter: Enum.Parse<JitterMode>(jitter), jitterFactor: factor), 10);

        Assert.Equal((TimeSpan.FromMilliseconds(minMs), TimeSpan.FromMilliseconds(maxMs)), schedule.Bounds(retry));
    }

    [Fact]
    public void Bounds_EveryAlgorithmAndJitter_ContainEverySampledDelay()
    {
        var random = new Random(20250101);
        foreach (var algorithm in Algorithms)
        {
            foreach (var jitter in JitterModes)
            {
                foreach (var factor in new[] { 0.0, 0.3, 1.0 })
                {
                    var options = Options(algorithm, 7, 2500, multiplier: 1.7, jitter: jitter, jitterFactor: factor);
                    var schedule = new BackoffSchedule(options, 8);
                    for (var retry = 1; retry <= 12; retry++)
                    {
                        var (min, max) = schedule.Bounds(retry);
                        Assert.InRange(min, TimeSpan.Zero, max);
                        Assert.InRange(max, TimeSpan.Zero, options.Max);
                        Assert.InRange(schedule.BaseDelay(retry), TimeSpan.Zero, options.Max);

                        foreach (var edge in new[] { 0.0, double.Epsilon, 0.5, double.BitDecrement(1.0), 1.0 })
                        {
                            Assert.InRange(schedule.NextDelay(retry, TimeSpan.Zero, edge), min, max);
                            Assert.InRange(schedule.NextDelay(retry, TimeSpan.MaxValue, edge), min, max);
                        }

                        for (var i = 0; i < 500; i++)
                        {
                            var previous = TimeSpan.FromTicks(random.NextInt64(-options.Max.Ticks, 4 * options.Max.Ticks));
                            Assert.InRange(schedule.NextDelay(retry, previous, random.NextDouble()), min, max);
                        }
                    }

                    // An honest chain, as the retry loop runs it.
                    for (var run = 0; run < 200; run++)
                    {
                        var previous = TimeSpan.Zero;
                        for (var retry = 1; retry <= 12; retry++)
                        {
                            previous = schedule.NextDelay(retry, previous, random.NextDouble());
                            var (min, max) = schedule.Bounds(retry);
                            Assert.InRange(previous, min, max);
                        }
                    }
                }
            }
        }
    }

    [Fact]
    public void Bounds_NonDecorrelated_AreReachedByRandomZeroAndOne()
    {
        foreach (var algorithm in Algorithms)
        {
            foreach (var jitter in new[] { JitterMode.None, JitterMode.Full, JitterMode.Equal })
            {
                var schedule = new BackoffSchedule(Options(algorithm, 20, 900, jitter: jitter, jitterFactor: 0.6), 6);
                for (var retry = 1; retry <= 8; retry++)
                {
                    Assert.Equal(schedule.Bounds(retry), (schedule.NextDelay(retry, TimeSpan.Zero, 0), schedule.NextDelay(retry, TimeSpan.Zero, 1)));
                }
            }
        }
    }

    [Fact]
    public void Validate_DefaultOptions_ReturnsNull()
    {
        Assert.Null(BackoffRules.Validate(new BackoffOptions(), 3));
        Assert.Null(BackoffRules.Validate(new BackoffOptions { Base = TimeSpan.Zero, Max = TimeSpan.Zero }, 1));

        // The multiplier only matters to exponential.
        Assert.Null(BackoffRules.Validate(new BackoffOptions { Algorithm = BackoffAlgorithm.Linear, Multiplier = 0.5 }, 3));
    }

    [Theory]
    [InlineData(0, 50, 1000, 2.0, 1.0, "max_attempts")]
    [InlineData(3, -1, 1000, 2.0, 1.0, "backoff.base")]
    [InlineData(3, 500, 100, 2.0, 1.0, "backoff.max")]
    [InlineData(3, 50, 1000, 0.5, 1.0, "backoff.multiplier")]
    [InlineData(3, 50, 1000, double.NaN, 1.0, "backoff.multiplier")]
    [InlineData(3, 50, 1000, double.PositiveInfinity, 1.0, "backoff.multiplier")]
    [InlineData(3, 50, 1000, 2.0, 1.5, "backoff.jitter_factor")]
    [InlineData(3, 50, 1000, 2.0, -0.1, "backoff.jitter_factor")]
    [InlineData(3, 50, 1000, 2.0, double.NaN, "backoff.jitter_factor")]
    public void Validate_ImpossibleOptions_NameTheKeyAndConstructorThrows(int maxAttempts, double baseMs, double maxMs, double multiplier, double jitterFactor, string key)
    {
        var options = Options(BackoffAlgorithm.Exponential, baseMs, maxMs, multiplier, JitterMode.Full, jitterFactor);

        var error = BackoffRules.Validate(options, maxAttempts);

        Assert.NotNull(error);
        Assert.StartsWith(key, error, StringComparison.Ordinal);
        var exception = Assert.Throws<ArgumentException>(() => new BackoffSchedule(options, maxAttempts));
        Assert.Contains(key, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UndefinedEnums_AreErrors()
    {
        Assert.NotNull(BackoffRules.Validate(new BackoffOptions { Algorithm = (BackoffAlgorithm)99 }, 3));
        Assert.NotNull(BackoffRules.Validate(new BackoffOptions { Jitter = (JitterMode)99 }, 3));
    }

    [Fact]
    public void Constructor_ExposesOptionsAndRetries()
    {
        var options = new BackoffOptions();
        var schedule = new BackoffSchedule(options, 4);

        Assert.Same(options, schedule.Options);
        Assert.Equal(4, schedule.MaxAttempts);
        Assert.Equal(3, schedule.MaxRetries);
    }

    private static BackoffOptions Options(
        BackoffAlgorithm algorithm,
        double baseMs,
        double maxMs,
        double multiplier = 2.0,
        JitterMode jitter = JitterMode.None,
        double jitterFactor = 1.0) => new()
        {
            Algorithm = algorithm,
            Base = TimeSpan.FromMilliseconds(baseMs),
            Max = TimeSpan.FromMilliseconds(maxMs),
            Multiplier = multiplier,
            Jitter = jitter,
            JitterFactor = jitterFactor,
        };
}
