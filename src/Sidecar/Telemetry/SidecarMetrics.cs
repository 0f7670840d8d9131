using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sidecar.Telemetry;

/// <summary>
/// The instruments README's metrics table documents, created from <see cref="IMeterFactory"/> (as Kestrel's <c>KestrelMetrics</c>).
/// Every method is called on the request path: each records only when the instrument is enabled and
/// passes its tags in a <see cref="TagList"/>, so a recording allocates nothing.
/// </summary>
/// <remarks>
/// Instrument names follow OpenTelemetry conventions (dotted, no unit, no <c>_total</c>); the unit is
/// declared separately. The Prometheus exporter of the OpenTelemetry SDK (and any OTLP → Prometheus pipeline)
/// derives the Prometheus names: dots become underscores, the unit is appended (<c>s</c> → <c>_seconds</c>,
/// <c>By</c> → <c>_bytes</c>, <c>{annotations}</c> dropped) and counters get <c>_total</c>. So <c>sidecar.requests</c>
/// is <c>sidecar_requests_total</c> and <c>sidecar.request.duration</c> (unit <c>s</c>) is
/// <c>sidecar_request_duration_seconds</c>.
/// </remarks>
internal sealed class SidecarMetrics
{
    /// <summary>The name of the meter, for listeners and for <c>AddMeter</c>.</summary>
    public const string MeterName = "Sidecar";

    /// <summary>The instrument behind <c>sidecar_requests_total</c>, for listeners that read it in process (the demo).</summary>
    public const string RequestsInstrumentName = "sidecar.requests";

    /// <summary>Bucket boundaries, in seconds, of every duration histogram: 1 ms to 30 s.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    /// <summary>Bucket boundaries of the attempts-per-request histogram.</summary>
    public static readonly IReadOnlyList<int> AttemptBuckets = [1, 2, 3, 4, 5, 10];

    private long _inflightRequests;
    private readonly Counter<long> _requests;
    private readonly Histogram<int> _requestAttempts;
    private readonly Histogram<double> _requestDuration;
    private readonly Counter<long> _upstreamAttempts;
    private readonly Histogram<double> _upstreamAttemptDuration;
    private readonly Counter<long> _retries;
    private readonly Counter<long> _retriesSkipped;
    private readonly Histogram<double> _backoff;
    private readonly Counter<long> _retryBudgetExhausted;
    private readonly Counter<long> _retryAfterHonored;
    private readonly Counter<long> _configReloads;
    private readonly Gauge<int> _configLastReloadSuccessful;
    private readonly UpDownCounter<long> _bufferedBytes;
    private readonly Counter<long> _circuitOpen;
    private readonly Gauge<int> _overloadState;
    private readonly Counter<long> _overloadShed;
    private readonly Counter<long> _accessLogDropped;
    private readonly Gauge<double> _tlsCertificateExpiry;
    private readonly Counter<long> _tlsReloads;

    public SidecarMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        var durationAdvice = new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets };

        // Observed at collection rather than measured twice per request: a measurement costs a tag lookup in every
        // listener, an interlocked increment does not.
        meter.CreateObservableUpDownCounter(
            "sidecar.inflight_requests", () => Volatile.Read(ref _inflightRequests), "{request}", "Requests currently being proxied, retries included.");
        _requests = meter.CreateCounter<long>(
            RequestsInstrumentName, "{request}", "Requests proxied, by route, policy, method, outcome and the class of the status the caller got.");
        _requestAttempts = meter.CreateHistogram<int>(
            "sidecar.request.attempts", "{attempt}", "Upstream attempts made per request.",
            tags: null, advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = AttemptBuckets });
        _requestDuration = meter.CreateHistogram<double>(
            "sidecar.request.duration", "s", "Time from receiving a request to its last upstream response, retries and backoff included.",
            tags: null, advice: durationAdvice);
        _upstreamAttempts = meter.CreateCounter<long>(
            "sidecar.upstream.attempts", "{attempt}", "Upstream attempts, by route, cluster and result.");
        _upstreamAttemptDuration = meter.CreateHistogram<double>(
            "sidecar.upstream.attempt.duration", "s", "Duration of one upstream attempt until its response headers or failure.",
            tags: null, advice: durationAdvice);
        _retries = meter.CreateCounter<long>(
            "sidecar.retries", "{retry}", "Retries made, by route and the reason of the retry.");
        _retriesSkipped = meter.CreateCounter<long>(
            "sidecar.retries.skipped", "{retry}", "Retries that a retryable failure called for but were not made, by reason.");
        _backoff = meter.CreateHistogram<double>(
            "sidecar.backoff", "s", "Backoff delays actually slept before a retry.",
            tags: null, advice: durationAdvice);
        _retryBudgetExhausted = meter.CreateCounter<long>(
            "sidecar.retry_budget.exhausted", "{retry}", "Retries refused because the cluster's retry budget was spent.");
        _retryAfterHonored = meter.CreateCounter<long>(
            "sidecar.retry_after.honored", "{retry}", "Retries whose delay came from the upstream's Retry-After or pushback header.");
        _configReloads = meter.CreateCounter<long>(
            "sidecar.config.reloads", "{reload}", "Configuration reloads, by result.");
        _configLastReloadSuccessful = meter.CreateGauge<int>(
            "sidecar.config.last_reload_successful", null, "1 while the configuration file in force is the one on disk, 0 while a rejected file waits for a fix.");
        _bufferedBytes = meter.CreateUpDownCounter<long>(
            "sidecar.buffered", "By", "Request body bytes currently buffered for replay.");
        _circuitOpen = meter.CreateCounter<long>(
            "sidecar.circuit.open", "{event}", "Times a circuit breaker opened, by cluster.");
        _overloadState = meter.CreateGauge<int>(
            "sidecar.overload.state", "{state}", "Overload protection in force: 0 none, 1 new bodies not buffered, 2 new requests rejected, 3 new connections held.");
        _overloadShed = meter.CreateCounter<long>(
            "sidecar.overload.shed", "{event}", "What overload protection gave up, by action.");
        _accessLogDropped = meter.CreateCounter<long>(
            "sidecar.access_log.dropped", "{line}", "Access log lines dropped because stdout could not keep up (the queue was full).");
        _tlsCertificateExpiry = meter.CreateGauge<double>(
            "sidecar.tls.certificate.expiry_timestamp", "s", "When a certificate in use expires (Unix time), by cluster or listener and kind (certificate, ca).");
        _tlsReloads = meter.CreateCounter<long>(
            "sidecar.tls.reloads", "{reload}", "Certificate files read again after they changed, by cluster or listener and result; a failure keeps the last good material.");

        // Istio/Envoy users complain that retry metrics are missing (or read 0 by default) until the
        // first event, so an alert such as `increase(sidecar_config_reloads_total{result="failure"}[5m]) > 0`
        // never fires on the first failure and dashboards show "no data". Series that operators alert
        // on start at 0 here; the host's metric listeners exist before this instance (see
        // TelemetryServiceCollectionExtensions), so the Prometheus exporter and the OTLP export see them.
        _configReloads.Add(0, new KeyValuePair<string, object?>(MetricTags.Result, MetricValues.Success));
        _configReloads.Add(0, new KeyValuePair<string, object?>(MetricTags.Result, MetricValues.Failure));
        _configLastReloadSuccessful.Record(1);
        _bufferedBytes.Add(0);
        _overloadState.Record(0);
        _accessLogDropped.Add(0);
    }

    public void RequestStarted() => Interlocked.Increment(ref _inflightRequests);

    public void RequestEnded() => Interlocked.Decrement(ref _inflightRequests);

    /// <summary>Counts a finished request.</summary>
    /// <param name="route">The route's name.</param>
    /// <param name="policy">The policy's name, or <c>none</c>.</param>
    /// <param name="method">The caller's method, labelled through <see cref="HttpMethodLabel"/>.</param>
    /// <param name="outcome">What Sidecar did.</param>
    /// <param name="statusClass">The class of the status the caller got (<c>StatusClass</c>), <c>none</c> when it left first.</param>
    /// <param name="attempts">Upstream attempts made.</param>
    /// <param name="duration">From receiving the request to its last upstream response.</param>
    /// <param name="grpcStatus">A gRPC call's final status (0..16), labelled by its name; negative for other requests, which carry no such label.</param>
    public void RequestCompleted(string route, string policy, string method, RequestOutcome outcome, string statusClass, int attempts, TimeSpan duration, int grpcStatus = -1)
    {
        if (_requests.Enabled)
        {
            var tags = new TagList
            {
                { MetricTags.Route, route },
                { MetricTags.Policy, policy },
                { MetricTags.Method, HttpMethodLabel.Of(method) },
                { MetricTags.Outcome, outcome.Label() },
                { MetricTags.StatusClass, statusClass },
            };
            if (grpcStatus >= 0)
            {
                tags.Add(MetricTags.GrpcStatus, Grpc.GrpcStatus.Label(grpcStatus));
            }

            _requests.Add(1, tags);
        }

        if (_requestAttempts.Enabled)
        {
            var tags = new TagList { { MetricTags.Route, route } };
            _requestAttempts.Record(attempts, tags);
        }

        if (_requestDuration.Enabled)
        {
            var tags = new TagList { { MetricTags.Route, route } };
            _requestDuration.Record(duration.TotalSeconds, tags);
        }
    }

    public void AttemptCompleted(string route, string cluster, AttemptResult result, TimeSpan duration)
    {
        if (_upstreamAttempts.Enabled)
        {
            var tags = new TagList
            {
                { MetricTags.Route, route },
                { MetricTags.Cluster, cluster },
                { MetricTags.Result, result.Label() },
            };
            _upstreamAttempts.Add(1, tags);
        }

        if (_upstreamAttemptDuration.Enabled)
        {
            var tags = new TagList
            {
                { MetricTags.Route, route },
                { MetricTags.Cluster, cluster },
            };
            _upstreamAttemptDuration.Record(duration.TotalSeconds, tags);
        }
    }

    public void Retried(string route, string reason)
    {
        if (_retries.Enabled)
        {
            var tags = new TagList
            {
                { MetricTags.Route, route },
                { MetricTags.Reason, reason },
            };
            _retries.Add(1, tags);
        }
    }

    public void RetrySkipped(string route, RetrySkipReason reason)
    {
        if (_retriesSkipped.Enabled)
        {
            var tags = new TagList
            {
                { MetricTags.Route, route },
                { MetricTags.Reason, reason.Label() },
            };
            _retriesSkipped.Add(1, tags);
        }
    }

    public void BackoffSlept(string route, TimeSpan delay)
    {
        if (_backoff.Enabled)
        {
            var tags = new TagList { { MetricTags.Route, route } };
            _backoff.Record(delay.TotalSeconds, tags);
        }
    }

    public void RetryBudgetExhausted(string cluster)
    {
        if (_retryBudgetExhausted.Enabled)
        {
            var tags = new TagList { { MetricTags.Cluster, cluster } };
            _retryBudgetExhausted.Add(1, tags);
        }
    }

    public void RetryAfterHonored(string route)
    {
        if (_retryAfterHonored.Enabled)
        {
            var tags = new TagList { { MetricTags.Route, route } };
            _retryAfterHonored.Add(1, tags);
        }
    }

    public void ConfigReloaded(bool success)
    {
        if (_configReloads.Enabled)
        {
            var tags = new TagList { { MetricTags.Result, success ? MetricValues.Success : MetricValues.Failure } };
            _configReloads.Add(1, tags);
        }

        _configLastReloadSuccessful.Record(success ? 1 : 0);
    }

    public void BufferedBytesChanged(long delta)
    {
        if (_bufferedBytes.Enabled)
        {
            _bufferedBytes.Add(delta);
        }
    }

    public void CircuitOpened(string cluster)
    {
        if (_circuitOpen.Enabled)
        {
            var tags = new TagList { { MetricTags.Cluster, cluster } };
            _circuitOpen.Add(1, tags);
        }
    }

    public void OverloadStateChanged(int state)
    {
        if (_overloadState.Enabled)
        {
            _overloadState.Record(state);
        }
    }

    /// <summary>Publishes the <c>sidecar.overload.shed</c> series of <paramref name="action"/> at 0 (see the constructor); idempotent.</summary>
    public void OverloadActionKnown(string action)
    {
        if (_overloadShed.Enabled)
        {
            var tags = new TagList { { MetricTags.Action, action } };
            _overloadShed.Add(0, tags);
        }
    }

    /// <summary>Counts an access log line dropped because its queue was full.</summary>
    public void AccessLogDropped()
    {
        if (_accessLogDropped.Enabled)
        {
            _accessLogDropped.Add(1);
        }
    }

    /// <summary>Counts one thing overload protection gave up; <paramref name="action"/> is its label (<c>OverloadActions</c>).</summary>
    public void OverloadShed(string action)
    {
        if (_overloadShed.Enabled)
        {
            var tags = new TagList { { MetricTags.Action, action } };
            _overloadShed.Add(1, tags);
        }
    }

    /// <summary>
    /// Publishes the per-route series that alerts are written against at 0, so that they exist
    /// before the first event (see the constructor). Call once per configured route; idempotent.
    /// </summary>
    public void RouteConfigured(string route)
    {
        if (_retryAfterHonored.Enabled)
        {
            var tags = new TagList { { MetricTags.Route, route } };
            _retryAfterHonored.Add(0, tags);
        }
    }

    /// <summary>
    /// Publishes the per-cluster series that alerts are written against (retry budget exhausted,
    /// circuit opened) at 0. Call once per configured cluster; idempotent.
    /// </summary>
    public void ClusterConfigured(string cluster)
    {
        var tags = new TagList { { MetricTags.Cluster, cluster } };
        if (_retryBudgetExhausted.Enabled)
        {
            _retryBudgetExhausted.Add(0, tags);
        }

        if (_circuitOpen.Enabled)
        {
            _circuitOpen.Add(0, tags);
        }
    }

    /// <summary>Sets the expiry of a certificate in use.</summary>
    /// <param name="owner"><see cref="MetricTags.Cluster"/> or <see cref="MetricTags.Listener"/>.</param>
    /// <param name="name">The cluster's or listener's name.</param>
    /// <param name="kind"><c>certificate</c> or <c>ca</c>.</param>
    /// <param name="notAfter">Its expiry.</param>
    public void TlsCertificateExpiry(string owner, string name, string kind, DateTimeOffset notAfter)
    {
        if (_tlsCertificateExpiry.Enabled)
        {
            _tlsCertificateExpiry.Record(notAfter.ToUnixTimeSeconds(), new TagList { { owner, name }, { MetricTags.Kind, kind } });
        }
    }

    /// <summary>Counts a rotation of certificate files; with <paramref name="loaded"/> at 0, publishes both series at 0.</summary>
    public void TlsReloaded(string owner, string name, bool? loaded)
    {
        if (!_tlsReloads.Enabled)
        {
            return;
        }

        if (loaded is { } success)
        {
            _tlsReloads.Add(1, new TagList { { owner, name }, { MetricTags.Result, success ? MetricValues.Success : MetricValues.Failure } });
            return;
        }

        _tlsReloads.Add(0, new TagList { { owner, name }, { MetricTags.Result, MetricValues.Success } });
        _tlsReloads.Add(0, new TagList { { owner, name }, { MetricTags.Result, MetricValues.Failure } });
    }

}
