using Sidecar.Http;

namespace Sidecar.Retries;

/// <summary>
/// The caller's <c>x-sidecar-*</c> headers: read where the policy allows overrides, then removed so they are never
/// forwarded upstream as they came. The scan allocates nothing when there are none, the usual case.
/// </summary>
internal static class ControlHeaders
{
    public static bool Any(IHeaderDictionary headers)
    {
        foreach (var header in headers)
        {
            if (header.Key.StartsWith(SidecarHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static void Strip(IHeaderDictionary headers)
    {
        List<string>? names = null;
        foreach (var header in headers)
        {
            if (header.Key.StartsWith(SidecarHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                (names ??= []).Add(header.Key);
            }
        }

        if (names is not null)
        {
            foreach (var name in names)
            {
                headers.Remove(name);
            }
        }
    }

    /// <summary>
    /// The caller's requested attempt limit, only when overrides are allowed: a single positive integer, capped by the
    /// policy. Anything else (garbage, repeated, negative) is ignored and the policy applies.
    /// </summary>
    public static int MaxAttempts(IHeaderDictionary headers, int policyMax)
    {
        var values = headers[SidecarHeaders.MaxAttempts];
        if (values.Count == 1 && int.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var requested) && requested >= 1)
        {
            return Math.Min(requested, policyMax);
        }

        return policyMax;
    }

    /// <summary>The caller's deadline from <c>x-sidecar-timeout-ms</c> (only with overrides) or gRPC's <c>grpc-timeout</c>.</summary>
    public static TimeSpan? CallerTimeout(IHeaderDictionary headers, bool allowOverrides)
    {
        TimeSpan? result = null;
        if (allowOverrides)
        {
            var values = headers[SidecarHeaders.TimeoutMs];
            if (values.Count == 1 && DeadlineHeaderParser.TryParseTimeoutMs(values[0], out var timeout))
            {
                result = timeout;
            }
        }

        var grpc = headers[SidecarHeaders.GrpcTimeout];
        if (grpc.Count == 1 && DeadlineHeaderParser.TryParseGrpcTimeout(grpc[0], out var grpcTimeout) && (result is null || grpcTimeout < result))
        {
            result = grpcTimeout;
        }

        return result;
    }
}
