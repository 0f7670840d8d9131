using System.Collections.Frozen;

namespace Sidecar.Configuration;

/// <summary>Every default of the configuration in one place, with the reason for each.</summary>
internal static class ConfigDefaults
{
    /// <summary>Loopback: the application beside us is the only caller; never an open proxy by default.</summary>
    public const string ProxyAddress = "http://127.0.0.1:8080";

    /// <summary>Loopback by default; a pod exposes it explicitly for probes and scraping.</summary>
    public const string AdminAddress = "http://127.0.0.1:9901";

    /// <summary>YARP's own default: good spread without a shared counter.</summary>
    public const string LoadBalancing = "PowerOfTwoChoices";

    /// <summary>Golem, Envoy and gRPC all default to a handful; 3 keeps amplification ≤ 3×.</summary>
    public const int MaxAttempts = 3;

    /// <summary>Envoy's 25ms base is aggressive for a sidecar; 50ms gives an overloaded upstream air.</summary>
    public static readonly TimeSpan BackoffBase = TimeSpan.FromMilliseconds(50);

    /// <summary>Beyond a second, a caller is better served by its own deadline.</summary>
    public static readonly TimeSpan BackoffMax = TimeSpan.FromSeconds(1);

    /// <summary>Doubling: the classic exponential backoff, which halves the retry rate with each attempt.</summary>
    public const double BackoffMultiplier = 2.0;

    /// <summary>Full jitter: spreads retries of many callers over the whole delay, so they do not arrive in waves.</summary>
    public const double JitterFactor = 1.0;

    /// <summary>One extra attempt: hedging doubles the load on a slow upstream at most, never more by default.</summary>
    public const int HedgeMaxExtra = 1;

    /// <summary>Long enough for rate limiters, short enough not to pin requests.</summary>
    public static readonly TimeSpan RetryAfterMax = TimeSpan.FromSeconds(30);

    /// <summary>Envoy's per-request buffer default order of magnitude; most JSON bodies fit.</summary>
    public const long BufferLimit = 64 * 1024;

    /// <summary>Linkerd/Finagle default budget: 20% of requests plus 10 retries/s over 10s.</summary>
    public const double BudgetRatio = 0.2;

    public const int BudgetMinPerSecond = 10;

    public static readonly TimeSpan BudgetWindow = TimeSpan.FromSeconds(10);

    /// <summary>Envoy's <c>max_retries</c> circuit breaker default is 3 per host; per cluster we allow more.</summary>
    public const int MaxConcurrentRetries = 100;

    /// <summary>Bounds requests parked in backoff (each holds a connection and maybe a body).</summary>
    public const int MaxWaitingRetries = 1000;

    /// <summary>
    /// How long a connection that has sent nothing keeps a pending slot before it may be closed to make room at
    /// <c>limits.max_pending_connections</c>: a client that has just connected has its request on the way (in a burst
    /// under a CPU quota, hey's callers took over 500 ms to write after connecting), and a neighbour reconnecting at once
    /// still cannot keep a caller out for longer than this.
    /// </summary>
    public static readonly TimeSpan IdleConnectionTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest a request without a deadline (no policy <c>timeout</c>, no caller timeout) waits for a slot at
    /// <c>limits.max_concurrent_requests</c>; one with a deadline waits until it, never past it. A caller's own client
    /// gives up after 30 to 100 s (curl, hey and browsers 30-60 s, Go and .NET clients 100 s), and a wait longer than
    /// that is worse than a quick 503 it can retry elsewhere; 10 s lets a burst several times the cap drain.
    /// </summary>
    public static readonly TimeSpan MaxQueueWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// From a request's first byte to its last header byte (Kestrel's <c>RequestHeadersTimeout</c>, 30 s by default):
    /// a caller on a pod's network sends its headers in one write, so 10 s only ends connections that stall.
    /// </summary>
    public static readonly TimeSpan RequestHeaderTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The slowest average rate, in bytes a second, at which a request body may arrive once <c>request_header_timeout</c>
    /// has passed (Kestrel's own minimum is 240 B/s, which 300 B/s callers pass while holding a slot for minutes).
    /// 1 KiB/s is 8 kbit/s: slower than any caller a sidecar serves, fast enough that a 60 KiB body ends within a minute.
    /// </summary>
    public const long MinRequestBodyRate = 1024;

    // limits.max_buffered_bytes and limits.max_concurrent_requests are derived from the memory the process has: see
    // MemoryBudget.

    /// <summary>
    /// Pressure is sampled off the request path; 4 samples a second see a burst build up over its first second (a
    /// thousand 60 KiB uploads take about as long to arrive) for a few microseconds of CPU each.
    /// </summary>
    public static readonly TimeSpan OverloadCheckInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Replay copies are the first memory to give up: a request still gets its upstream's answer, only without a
    /// retry. At 60% of a 96 MiB heap limit there is still room for the requests already in flight to finish.
    /// </summary>
    public const double OverloadStopBuffering = 0.6;

    /// <summary>
    /// A 503 costs a few hundred bytes where a proxied request costs up to 192 KiB: shedding new requests is what
    /// lets those in flight finish. Envoy's overload manager sheds at 95% of its heap; a .NET heap that grows in GC
    /// regions and collects between samples needs the earlier start.
    /// </summary>
    public const double OverloadRejectRequests = 0.75;

    /// <summary>
    /// Even 503s cost receive buffers: past this, new connections wait in the kernel's accept queue (they are neither
    /// read nor reset) until pressure falls.
    /// </summary>
    public const double OverloadStopAccepting = 0.9;

    /// <summary>A protection turns off only 0.1 below its threshold, so pressure hovering at a threshold does not flap.</summary>
    public const double OverloadRecoveryMargin = 0.1;

    /// <summary>A destination passive health took out is tried again after this: seconds, so a restart is not held against it long.</summary>
    public static readonly TimeSpan ReactivationPeriod = TimeSpan.FromSeconds(10);

    /// <summary>Active probes every 15s: a dead destination is found within a probe or two, at negligible load.</summary>
    public static readonly TimeSpan ActiveHealthInterval = TimeSpan.FromSeconds(15);

    /// <summary>A probe unanswered for 10s counts as failed; shorter than the interval, so probes never overlap.</summary>
    public static readonly TimeSpan ActiveHealthTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The usual liveness path of HTTP services (Sidecar's own admin port serves it too).</summary>
    public const string ActiveHealthPath = "/healthz";

    /// <summary>Half the requests failing: a destination clearly broken, not one having a bad moment.</summary>
    public const double BreakerFailureRatio = 0.5;

    /// <summary>A ratio over fewer than 20 requests is noise; no circuit opens on a handful of failures.</summary>
    public const int BreakerMinimumRequests = 20;

    /// <summary>The ratio is judged over the last 10s: recent enough to react within seconds.</summary>
    public static readonly TimeSpan BreakerWindow = TimeSpan.FromSeconds(10);

    /// <summary>An open circuit waits 5s before one probe: time for a restart, short enough to recover quickly.</summary>
    public static readonly TimeSpan BreakerBreakDuration = TimeSpan.FromSeconds(5);

    /// <summary>TLS 1.2 is what every current server and client speaks; 1.0 and 1.1 are deprecated (RFC 8996).</summary>
    public const TlsMinVersion TlsMinVersion = Sidecar.Configuration.TlsMinVersion.Tls12;

    /// <summary>
    /// How often certificate files are read for a rotation: a Kubernetes Secret volume swaps its <c>..data</c> link
    /// within a minute or so of the Secret changing, and reading a few KiB every 2s costs nothing.
    /// </summary>
    public static readonly TimeSpan TlsReloadInterval = TimeSpan.FromSeconds(2);

    /// <summary>Kubernetes' default termination grace is 30s; leave a margin for the process to exit.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(25);

    /// <summary>Time for endpoint controllers to take the pod out of rotation before connections stop.</summary>
    public static readonly TimeSpan DrainDelay = TimeSpan.FromSeconds(5);

    /// <summary>429 (rate limited) and 503 (unavailable) mean "not done, try later"; 502/504 may have done the work.</summary>
    public static readonly IReadOnlyList<StatusMatcher> RetryStatuses = [new(429, 429), new(503, 503)];

    /// <summary>
    /// Off: the runtime, Kestrel and HTTP client meters add 27 metric families (about 140 samples per scrape after a
    /// few requests, more per upstream destination and status) that most dashboards of a sidecar never read; Sidecar's
    /// own series answer "what did the retries do". Operators who want them opt in.
    /// </summary>
    public const bool DotnetMetrics = false;

    /// <summary>
    /// Off: a line per request is a cost (stdout, the log pipeline's storage) an operator should choose; metrics and
    /// the route summaries already say what retries did in aggregate.
    /// </summary>
    public const AccessLogMode AccessLog = AccessLogMode.Off;

    /// <summary>Every request the mode selects: sampling is for busy services that chose <c>all</c>.</summary>
    public const double AccessLogSample = 1.0;

    /// <summary>RFC 9110 §9.2.2 idempotent methods.</summary>
    public static readonly FrozenSet<string> IdempotentMethods =
        FrozenSet.Create(StringComparer.OrdinalIgnoreCase, "GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE");
}
