using System.Buffers;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Sidecar.Configuration;
using Sidecar.Http;
using Sidecar.Policies;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Model;

namespace Sidecar.AccessLog;

/// <summary>
/// Decides which requests the access log (<c>logs.access</c>, <c>logs.access_sample</c>, read per request so a
/// reload applies at once) and the explain header (<c>x-sidecar-explain</c>, policy <c>allow_explain</c>) show, and
/// writes their lines. A request neither shows costs a field read: no trail, no allocation.
/// </summary>
internal sealed class AccessLogRecorder
{
    private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_json;

    private readonly SidecarConfigStore _store;
    private readonly AccessLogWriter _writer;
    private readonly IRandomSource _random;
    private readonly TimeProvider _timeProvider;

    public AccessLogRecorder(SidecarConfigStore store, AccessLogWriter writer, IRandomSource random, TimeProvider timeProvider)
    {
        _store = store;
        _writer = writer;
        _random = random;
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// A request on a route with a policy begins: gives it a trail when the access log (sampled) or the explain header
    /// will show it, and for the header, sets it as the response starts (its commit, or Sidecar's own error answer).
    /// </summary>
    /// <param name="context">The request.</param>
    /// <param name="state">Its retry state.</param>
    /// <param name="explain">The caller asked for the header and the policy allows it (read before the control headers were stripped).</param>
    public void Begin(HttpContext context, RetryState state, bool explain)
    {
        var mode = Mode();
        if (mode == AccessLogMode.Off && !explain)
        {
            return;
        }

        state.Trail = new AttemptTrail(explain, mode);
        if (explain)
        {
            context.Response.OnStarting(SetExplainHeader, new ExplainTarget(context, state, _timeProvider));
        }
    }

    /// <summary>A request on a route with a policy ended: its line, if its trail was kept for the log.</summary>
    public void Complete(HttpContext context, RetryState state, RequestOutcome outcome, TimeSpan duration, Activity? activity)
    {
        if (state.Trail is { Log: not AccessLogMode.Off } trail && Selected(trail.Log, outcome, state.Attempt))
        {
            Write(context, state.Route, outcome, state.Attempt, duration, activity, state.SkipReason, trail.Attempts, single: null);
        }
    }

    /// <summary>A request without a policy ended (or was refused before any attempt: <paramref name="attempts"/> 0).</summary>
    public void Complete(HttpContext context, RoutePlan route, RequestOutcome outcome, int attempts, TimeSpan duration, Activity? activity, AttemptRecord? single)
    {
        var mode = _store.Config.Logs.Access;
        if (mode == AccessLogMode.Off)
        {
            return;
        }

        mode = Mode();
        if (Selected(mode, outcome, attempts))
        {
            Write(context, route, outcome, attempts, duration, activity, stopReason: null, trail: null, single);
        }
    }

    /// <summary><c>failures</c>: only requests that were retried or did not succeed.</summary>
    private static bool Selected(AccessLogMode mode, RequestOutcome outcome, int attempts) =>
        mode == AccessLogMode.All || (mode == AccessLogMode.Failures && (outcome != RequestOutcome.Success || attempts > 1));

    /// <summary>The mode in force for a request starting now, <c>off</c> when the sample leaves it out.</summary>
    private AccessLogMode Mode()
    {
        var logs = _store.Config.Logs;
        if (logs.Access == AccessLogMode.Off || logs.AccessSample >= 1)
        {
            return logs.Access;
        }

        return logs.AccessSample > 0 && _random.NextDouble() < logs.AccessSample ? logs.Access : AccessLogMode.Off;
    }

    private void Write(HttpContext context, RoutePlan route, RequestOutcome outcome, int attempts, TimeSpan duration, Activity? activity, RetrySkipReason? stopReason, IReadOnlyList<AttemptRecord>? trail, AttemptRecord? single)
    {
        var request = context.Request;
        var entry = new AccessLogEntry(
            _timeProvider.GetUtcNow() - duration,
            route.RouteName,
            route.ClusterName,
            request.Method,
            request.PathBase.HasValue ? request.PathBase.Add(request.Path).Value ?? "/" : request.Path.Value ?? "/",
            outcome == RequestOutcome.ClientCancelled && !context.Response.HasStarted ? 0 : context.Response.StatusCode,
            duration,
            TraceId(activity, request.Headers),
            outcome,
            stopReason,
            attempts,
            trail,
            single);

        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(1024);
        buffer.ResetWrittenCount();
        var json = t_json ??= new Utf8JsonWriter(buffer, JsonOptions);
        json.Reset(buffer);
        AccessLogLine.Write(json, entry);
        json.Flush();
        _writer.TryWrite(buffer.WrittenSpan);
    }

    /// <summary>The request span's trace id, else the one of the caller's <c>traceparent</c> (tracing off), else none.</summary>
    private static string TraceId(Activity? activity, IHeaderDictionary headers)
    {
        if (activity is not null)
        {
            return activity.TraceId.ToHexString();
        }

        var traceParent = headers.TraceParent;
        // version "-" 32 hex trace id "-" 16 hex parent id "-" 2 hex flags (W3C Trace Context).
        return traceParent.Count == 1 && traceParent[0] is { Length: >= 55 } value && value[2] == '-' && value[35] == '-'
            ? value.Substring(3, 32)
            : string.Empty;
    }

    private static Task SetExplainHeader(object target)
    {
        var (context, state, timeProvider) = (ExplainTarget)target;
        if (state.Trail is { } trail)
        {
            var destination = context.Features.Get<IReverseProxyFeature>()?.ProxiedDestination?.Model.Config.Address;
            context.Response.Headers[SidecarHeaders.Explain] = ExplainHeader.Format(state, trail, destination, timeProvider.GetTimestamp(), timeProvider);
        }

        return Task.CompletedTask;
    }

    private sealed record ExplainTarget(HttpContext Context, RetryState State, TimeProvider TimeProvider);
}
