namespace Sidecar.Grpc;

/// <summary>
/// The 17 gRPC status codes (gRPC's <c>statuscodes.md</c>) and their three spellings: the config name
/// (<c>resource-exhausted</c>, lower-case with hyphens as Envoy's <c>retry_on</c> writes them), the metric label
/// (<c>resource_exhausted</c>) and the header value (<c>8</c>). Lookups are array indexes: nothing allocates.
/// </summary>
internal static class GrpcStatus
{
    public const int Ok = 0;
    public const int Cancelled = 1;
    public const int Unknown = 2;
    public const int InvalidArgument = 3;
    public const int DeadlineExceeded = 4;
    public const int NotFound = 5;
    public const int AlreadyExists = 6;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int FailedPrecondition = 9;
    public const int Aborted = 10;
    public const int OutOfRange = 11;
    public const int Unimplemented = 12;
    public const int Internal = 13;
    public const int Unavailable = 14;
    public const int DataLoss = 15;
    public const int Unauthenticated = 16;

    /// <summary>How many codes there are; a code at or past this is read as <see cref="Unknown"/>, as gRPC clients do.</summary>
    public const int Count = 17;

    private static readonly string[] Names =
    [
        "ok", "cancelled", "unknown", "invalid-argument", "deadline-exceeded", "not-found", "already-exists",
        "permission-denied", "resource-exhausted", "failed-precondition", "aborted", "out-of-range", "unimplemented",
        "internal", "unavailable", "data-loss", "unauthenticated",
    ];

    private static readonly string[] Labels = CreateLabels();

    private static readonly string[] RetryReasonNames = CreateRetryReasons();

    /// <summary>Every config name, in code order (for "did you mean" and the allowed list).</summary>
    public static IReadOnlyList<string> ConfigNames => Names;

    /// <summary>The config name of <paramref name="code"/>, e.g. <c>unavailable</c>.</summary>
    public static string ConfigName(int code) => Names[Normalize(code)];

    /// <summary>The <c>grpc_status</c> metric label of <paramref name="code"/>, e.g. <c>resource_exhausted</c>.</summary>
    public static string Label(int code) => Labels[Normalize(code)];

    /// <summary>Every retry reason of a gRPC status, in code order (<c>grpc_ok</c> included, though OK is never retried).</summary>
    public static IReadOnlyList<string> RetryReasons => RetryReasonNames;

    /// <summary>The <c>sidecar_retries_total</c> reason for a retry on <paramref name="code"/>, e.g. <c>grpc_unavailable</c>.</summary>
    public static string RetryReason(int code) => RetryReasonNames[Normalize(code)];

    /// <summary>Reads a config value: a name (<c>unavailable</c>) or a number from 0 to 16.</summary>
    public static bool TryParseName(string text, out int code)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (string.Equals(Names[i], text, StringComparison.Ordinal))
            {
                code = i;
                return true;
            }
        }

        if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out code) && code < Count)
        {
            return true;
        }

        code = Unknown;
        return false;
    }

    /// <summary>
    /// Reads a <c>grpc-status</c> field: decimal digits. A number outside 0..16 is <see cref="Unknown"/> (gRPC clients
    /// read it so); anything else is not a status and yields false.
    /// </summary>
    public static bool TryParseHeader(ReadOnlySpan<char> value, out int code)
    {
        code = Unknown;
        value = value.Trim(GrpcProtocol.OptionalWhitespace);
        if (value.IsEmpty || value.Length > 9)
        {
            return false;
        }

        var number = 0;
        foreach (var c in value)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            number = (number * 10) + (c - '0');
        }

        code = number < Count ? number : Unknown;
        return true;
    }

    private static int Normalize(int code) => (uint)code < Count ? code : Unknown;

    private static string[] CreateLabels()
    {
        var labels = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            labels[i] = Names[i].Replace('-', '_');
        }

        return labels;
    }

    private static string[] CreateRetryReasons()
    {
        var reasons = new string[Count];
        for (var i = 0; i < Count; i++)
        {
            reasons[i] = "grpc_" + Names[i].Replace('-', '_');
        }

        return reasons;
    }
}
