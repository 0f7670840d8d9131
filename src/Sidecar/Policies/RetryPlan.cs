using System.Net.Http.Headers;
using Sidecar.Configuration;
using Sidecar.Grpc;

namespace Sidecar.Policies;

/// <summary>
/// A retry policy compiled for one cluster: lookups that run per attempt are precomputed (a status table instead of a
/// list scan), and the cluster's budget is resolved once. Rebuilt whole on every config reload.
/// </summary>
internal sealed class RetryPlan
{
    private readonly bool[] _retryStatus = new bool[600];

    /// <summary>Bit <c>n</c> set: gRPC status <c>n</c> is listed in <c>retry_on.grpc</c>.</summary>
    private readonly int _retryGrpc;

    public RetryPlan(RetryPolicyOptions options, ClusterRetryState cluster)
    {
        Options = options;
        Cluster = cluster;
        Backoff = new BackoffSchedule(options.Backoff, options.MaxAttempts);
        RetrySlots = new ConcurrencyLimiter(options.MaxConcurrentRetries);
        foreach (var matcher in options.RetryOn.Status)
        {
            for (var status = Math.Max(matcher.Low, 0); status <= Math.Min(matcher.High, 599); status++)
            {
                _retryStatus[status] = true;
            }
        }

        foreach (var code in options.RetryOn.Grpc)
        {
            _retryGrpc |= 1 << code;
        }
    }

    public string Name => Options.Name;

    public RetryPolicyOptions Options { get; }

    public ClusterRetryState Cluster { get; }

    public BackoffSchedule Backoff { get; }

    /// <summary>Caps requests of this policy and cluster that are retrying at once (<c>max_concurrent_retries</c>).</summary>
    public ConcurrencyLimiter RetrySlots { get; }

    public bool IsRetryableStatus(int status) => (uint)status < (uint)_retryStatus.Length && _retryStatus[status];

    /// <summary>True when <c>retry_on.grpc</c> lists gRPC status <paramref name="code"/>.</summary>
    public bool IsRetryableGrpc(int code) => (uint)code < GrpcStatus.Count && (_retryGrpc & (1 << code)) != 0;

    public bool IsRetryableError(RetryableErrors error) => (Options.RetryOn.Errors & error) != 0;

    /// <summary>True when a <c>retry_on.headers</c> matcher matches the response.</summary>
    public bool MatchesRetryHeader(HttpResponseMessage response)
    {
        foreach (var matcher in Options.RetryOn.Headers)
        {
            if (HeaderMatches(response, matcher))
            {
                return true;
            }
        }

        return false;
    }

    internal static bool HeaderMatches(HttpResponseMessage response, ResponseHeaderMatcher matcher)
    {
        if (!TryGetHeader(response.Headers, matcher.Name, out var values) && !TryGetHeader(response.Content.Headers, matcher.Name, out values))
        {
            return false;
        }

        if (matcher.Values.Count == 0)
        {
            return true;
        }

        foreach (var value in values)
        {
            foreach (var expected in matcher.Values)
            {
                if (string.Equals(value.Trim(), expected, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool TryGetHeader(HttpHeaders headers, string name, out IEnumerable<string> values)
    {
        if (headers.NonValidated.TryGetValues(name, out var found))
        {
            values = found;
            return true;
        }

        values = [];
        return false;
    }
}
