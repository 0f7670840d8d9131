namespace Sidecar.Configuration;

/// <summary>One entry of <c>policies:</c>: when and how a route's requests are retried.</summary>
internal sealed record RetryPolicyOptions
{
    /// <summary>The policy's key in <c>policies:</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Attempts including the first; at least 1. Default 3.</summary>
    public int MaxAttempts { get; init; } = ConfigDefaults.MaxAttempts;

    public BackoffOptions Backoff { get; init; } = new();

    public RetryOnOptions RetryOn { get; init; } = new();

    /// <summary>Methods that may be retried after the upstream may have seen them. Default: the idempotent ones.
    /// POST and PATCH carrying <c>Idempotency-Key</c> are always treated as idempotent.</summary>
    public IReadOnlySet<string> Methods { get; init; } = ConfigDefaults.IdempotentMethods;

    /// <summary>Time allowed for one attempt until response headers arrive; <c>null</c> = only the deadline bounds it.</summary>
    public TimeSpan? PerTryTimeout { get; init; }

    /// <summary>The request's whole deadline, retries included; <c>null</c> = no deadline unless the caller sends one.</summary>
    public TimeSpan? Timeout { get; init; }

    public RetryAfterOptions RetryAfter { get; init; } = new();

    /// <summary>
    /// Request bodies up to this many bytes are kept for replay while they are forwarded (never held back); a longer
    /// one is forwarded once and not retried. Default 64 KiB.
    /// </summary>
    public long BufferLimit { get; init; } = ConfigDefaults.BufferLimit;

    /// <summary>Retry budget of the route's cluster; on by default.</summary>
    public BudgetOptions Budget { get; init; } = new();

    /// <summary>At most this many retries of the route's cluster in flight at once. Default 100.</summary>
    public int MaxConcurrentRetries { get; init; } = ConfigDefaults.MaxConcurrentRetries;

    /// <summary>Honour the caller's <c>x-sidecar-timeout-ms</c> and <c>x-sidecar-max-attempts</c> (always capped by this policy).</summary>
    public bool AllowOverrides { get; init; }

    /// <summary>
    /// Answer a caller's <c>x-sidecar-explain: 1</c> with an <c>x-sidecar-explain</c> response header listing each
    /// attempt (destination, result, wait, reason). Default <c>false</c>: it shows the upstream's addresses.
    /// </summary>
    public bool AllowExplain { get; init; }

    /// <summary><c>retry_until:</c> conditions a response must meet to be accepted; empty = any non-retryable response is accepted.</summary>
    public IReadOnlyList<ResponseCondition> RetryUntil { get; init; } = [];

    /// <summary><c>hedge:</c> extra parallel attempts for idempotent requests; <c>null</c> = off.</summary>
    public HedgeOptions? Hedge { get; init; }

    /// <summary>1-based line of the policy in its file.</summary>
    public int Line { get; init; }
}

/// <summary><c>backoff:</c> the delay before each retry.</summary>
internal sealed record BackoffOptions
{
    public BackoffAlgorithm Algorithm { get; init; } = BackoffAlgorithm.Exponential;

    /// <summary>First delay (and the floor of <c>range</c>). Default 50ms.</summary>
    public TimeSpan Base { get; init; } = ConfigDefaults.BackoffBase;

    /// <summary>Every delay is clamped to this. Default 1s.</summary>
    public TimeSpan Max { get; init; } = ConfigDefaults.BackoffMax;

    /// <summary>Growth factor of <c>exponential</c>. Default 2.</summary>
    public double Multiplier { get; init; } = ConfigDefaults.BackoffMultiplier;

    public JitterMode Jitter { get; init; } = JitterMode.Full;

    /// <summary>Share of each delay that jitter may take away, 0..1. Default 1 (the whole delay).</summary>
    public double JitterFactor { get; init; } = ConfigDefaults.JitterFactor;
}

internal enum BackoffAlgorithm
{
    Constant,
    Linear,
    Exponential,
    Fibonacci,
    Range,
}

internal enum JitterMode
{
    None,
    Full,
    Equal,
    Decorrelated,
}

/// <summary><c>retry_on:</c> what makes an attempt retryable.</summary>
internal sealed record RetryOnOptions
{
    /// <summary>Status codes and classes; default 429 and 503 (502/504 are opt-in: the upstream may have done the work).</summary>
    public IReadOnlyList<StatusMatcher> Status { get; init; } = ConfigDefaults.RetryStatuses;

    /// <summary>Failures without a response that are retried. Default connect failures, resets and per-try timeouts; <c>tls</c> is opt-in.</summary>
    public RetryableErrors Errors { get; init; } = RetryableErrors.All;

    /// <summary>Response header matchers: a response carrying a matching header is retried.</summary>
    public IReadOnlyList<ResponseHeaderMatcher> Headers { get; init; } = [];

    /// <summary>
    /// gRPC status codes (0..16) that make a gRPC call's trailers-only response retryable, for any method: listing a
    /// code asserts that it means "not processed", as gRPC's own <c>retryableStatusCodes</c> does. Default none.
    /// </summary>
    public IReadOnlyList<int> Grpc { get; init; } = [];
}

/// <summary>A status code (<c>503</c>) or class (<c>5xx</c>: <see cref="Low"/> 500, <see cref="High"/> 599).</summary>
internal readonly record struct StatusMatcher(int Low, int High)
{
    public bool Matches(int status) => status >= Low && status <= High;

    public override string ToString() => Low == High ? Low.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Low / 100}xx";
}

[Flags]
internal enum RetryableErrors
{
    None = 0,
    ConnectFailure = 1,
    Reset = 2,
    PerTryTimeout = 4,

    /// <summary>A TLS handshake refused on a certificate: opt-in only, it fails again until someone changes a certificate.</summary>
    Tls = 8,

    /// <summary>The default: every error a retry can cure (not <see cref="Tls"/>).</summary>
    All = ConnectFailure | Reset | PerTryTimeout,
}

/// <summary>A response header matcher: present (no value) or equal to one of <see cref="Values"/> (case-insensitive).</summary>
internal sealed record ResponseHeaderMatcher
{
    public required string Name { get; init; }

    public IReadOnlyList<string> Values { get; init; } = [];
}

/// <summary>
/// <c>retry_after:</c> honouring the upstream's <c>Retry-After</c> on 429 and 503, and its
/// <c>x-sidecar-retry-pushback-ms</c> on any status.
/// </summary>
internal sealed record RetryAfterOptions
{
    /// <summary>
    /// Wait as the upstream asks instead of the backoff. Default true. A negative pushback ("do not retry") is obeyed
    /// either way: it can only lower the load on the upstream.
    /// </summary>
    public bool Honor { get; init; } = true;

    /// <summary>Longest wait accepted from <c>Retry-After</c> or pushback; a longer one is capped here. Default 30s.</summary>
    public TimeSpan Max { get; init; } = ConfigDefaults.RetryAfterMax;
}

/// <summary><c>budget:</c> retries ≤ ratio × requests + min_per_second × window, per cluster.</summary>
internal sealed record BudgetOptions
{
    public bool Enabled { get; init; } = true;

    public double Ratio { get; init; } = ConfigDefaults.BudgetRatio;

    public int MinPerSecond { get; init; } = ConfigDefaults.BudgetMinPerSecond;

    public TimeSpan Window { get; init; } = ConfigDefaults.BudgetWindow;
}

/// <summary>One <c>retry_until:</c> condition; every given part must hold for the response to be accepted.</summary>
internal sealed record ResponseCondition
{
    /// <summary>Accepted status codes or classes; empty = any.</summary>
    public IReadOnlyList<StatusMatcher> Status { get; init; } = [];

    /// <summary>A header that must be present with one of its values.</summary>
    public ResponseHeaderMatcher? Header { get; init; }

    /// <summary>A JSON field (dotted path, e.g. <c>status</c> or <c>data.state</c>) that must equal <see cref="JsonEquals"/>.</summary>
    public string? JsonPath { get; init; }

    public string? JsonEquals { get; init; }
}

/// <summary><c>hedge:</c> start another attempt if no response arrived after <see cref="Delay"/>.</summary>
internal sealed record HedgeOptions
{
    public required TimeSpan Delay { get; init; }

    public int MaxExtra { get; init; } = ConfigDefaults.HedgeMaxExtra;
}
