namespace Sidecar.Configuration;

/// <summary>
/// What a <c>backoff</c> must satisfy, written once: the binder checks a file against these rules and names the YAML
/// key and values in its error; <c>BackoffSchedule</c> checks them again when it is built from options that did not
/// come through the binder (tests, code), and throws.
/// </summary>
internal static class BackoffRules
{
    /// <summary>The smallest <c>multiplier</c>: below 1 the delays would shrink as the retries go on.</summary>
    public const double MinMultiplier = 1;

    /// <summary>The smallest <c>jitter_factor</c>: no jitter.</summary>
    public const double MinJitterFactor = 0;

    /// <summary>The largest <c>jitter_factor</c>: the whole delay is random (full jitter).</summary>
    public const double MaxJitterFactor = 1;

    /// <summary><c>max</c> is at least <c>base</c>, or every delay would be clamped below the first one.</summary>
    public static bool IsOrdered(TimeSpan baseDelay, TimeSpan maxDelay) => maxDelay >= baseDelay;

    /// <summary>
    /// Checks options the way <c>BackoffSchedule</c>'s constructor does.
    /// </summary>
    /// <returns><c>null</c> when a schedule can be built, otherwise what is wrong, naming the YAML key.</returns>
    public static string? Validate(BackoffOptions options, int maxAttempts)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (maxAttempts < 1)
        {
            return "max_attempts must be at least 1";
        }

        if (!Enum.IsDefined(options.Algorithm))
        {
            return "backoff.algorithm is not a known algorithm";
        }

        if (!Enum.IsDefined(options.Jitter))
        {
            return "backoff.jitter is not a known jitter mode";
        }

        if (options.Base < TimeSpan.Zero)
        {
            return "backoff.base must not be negative";
        }

        if (!IsOrdered(options.Base, options.Max))
        {
            return "backoff.max must not be less than backoff.base";
        }

        // The multiplier only matters to exponential, so only there can a bad one break a schedule.
        if (options.Algorithm == BackoffAlgorithm.Exponential && !(options.Multiplier >= MinMultiplier && double.IsFinite(options.Multiplier)))
        {
            return "backoff.multiplier must be a finite number of at least 1";
        }

        if (!(options.JitterFactor >= MinJitterFactor && options.JitterFactor <= MaxJitterFactor))
        {
            return "backoff.jitter_factor must be between 0 and 1";
        }

        return null;
    }
}
