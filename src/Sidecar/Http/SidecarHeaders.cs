namespace Sidecar.Http;

/// <summary>The <c>x-sidecar-*</c> headers (README, "Headers"), and cached attempt numbers so headers cost no allocation.</summary>
internal static class SidecarHeaders
{
    /// <summary>Every control header starts with this; all of them are consumed or stripped before forwarding.</summary>
    public const string Prefix = "x-sidecar-";

    // From the caller.
    public const string TimeoutMs = "x-sidecar-timeout-ms";
    public const string MaxAttempts = "x-sidecar-max-attempts";
    public const string IdempotencyKey = "Idempotency-Key";
    public const string GrpcTimeout = "grpc-timeout";

    /// <summary>From the caller, <c>1</c> asks for it; to the caller, the attempts and the decision (policy <c>allow_explain</c>).</summary>
    public const string Explain = "x-sidecar-explain";

    // To the upstream.
    public const string Attempt = "x-sidecar-attempt";
    public const string LastAttempt = "x-sidecar-last-attempt";
    public const string DeadlineMs = "x-sidecar-deadline-ms";

    // From the upstream.
    public const string RetryPushbackMs = "x-sidecar-retry-pushback-ms";

    // To the caller.
    public const string Attempts = "x-sidecar-attempts";
    public const string Validation = "x-sidecar-validation";

    private static readonly string[] Numbers = CreateNumbers(64);

    /// <summary>The decimal text of a small non-negative number without allocating.</summary>
    public static string Number(int value) =>
        (uint)value < (uint)Numbers.Length ? Numbers[value] : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string[] CreateNumbers(int count)
    {
        var numbers = new string[count];
        for (var i = 0; i < count; i++)
        {
            numbers[i] = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return numbers;
    }
}
