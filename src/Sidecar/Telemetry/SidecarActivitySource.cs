using System.Diagnostics;

namespace Sidecar.Telemetry;

/// <summary>
/// Sidecar's spans: one per proxied request and a child per upstream attempt, whose context is what the upstream
/// receives (<see cref="TraceContextTransform"/>). The helpers return null, without allocating, when nothing listens
/// to the source: only an OTLP traces endpoint adds a listener (<see cref="OtlpExport"/>).
/// </summary>
internal static class SidecarActivitySource
{
    /// <summary>The name of the activity source, for <c>AddSource</c>.</summary>
    public const string Name = "Sidecar";

    public const string AttemptActivityName = "sidecar.attempt";

    public static readonly ActivitySource Source = new(Name, typeof(SidecarActivitySource).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts the span of a proxied request, named <c>{method} {route}</c> after the OpenTelemetry HTTP server span
    /// convention (the route name stands for the route template: bounded, no raw path). It is the root of Sidecar's
    /// trace, or continues the caller's when the request carries a <c>traceparent</c>. The method is the caller's:
    /// only a known one is shown (see <see cref="HttpMethodLabel"/>).
    /// </summary>
    public static Activity? StartRequest(string route, string method, IHeaderDictionary requestHeaders)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(requestHeaders, ReadHeader, out var traceParent, out var traceState);
        ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var parent);
        if (Activity.Current is not null)
        {
            // ASP.NET Core starts a request activity of its own only while its hosting diagnostics are logged
            // (SidecarHost turns them off); it is never exported, so the caller's context is the parent to keep.
            Activity.Current = null;
        }

        var label = HttpMethodLabel.Of(method);
        var activity = Source.StartActivity(ActivityKind.Server, parent, name: HttpMethodLabel.SpanPrefix(label) + " " + route);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SemanticConventions.HttpRequestMethod, label);
            activity.SetTag(SemanticConventions.SidecarRoute, route);
        }

        return activity;
    }

    /// <summary>
    /// Starts the span of one upstream attempt (1-based) as a child of the current activity; retries
    /// carry <c>http.request.resend_count</c> = <paramref name="attempt"/> − 1.
    /// </summary>
    public static Activity? StartAttempt(string route, int attempt)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(ActivityKind.Client, name: AttemptActivityName);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SemanticConventions.SidecarRoute, route);
            activity.SetTag(SemanticConventions.SidecarAttempt, attempt);
            if (attempt > 1)
            {
                activity.SetTag(SemanticConventions.HttpRequestResendCount, attempt - 1);
            }
        }

        return activity;
    }

    /// <summary>
    /// Records how an attempt ended, with the result label of <c>sidecar_upstream_attempts_total</c> (<c>2xx</c>,
    /// <c>connect_failure</c>, <c>per_try_timeout</c>, ...) and the status code if a response came. An attempt without
    /// a response also carries its result as <c>error.type</c>. A gRPC attempt answered trailers-only carries its
    /// status as <c>rpc.grpc.status_code</c> (<paramref name="grpcStatus"/>, negative for none); a non-OK one is an error.
    /// </summary>
    public static void SetAttemptResult(Activity? activity, AttemptResult result, int statusCode = 0, int grpcStatus = -1)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        var label = result.Label();
        activity.SetTag(SemanticConventions.SidecarResult, label);
        if (statusCode > 0)
        {
            activity.SetTag(SemanticConventions.HttpResponseStatusCode, statusCode);
        }
        else
        {
            activity.SetTag(SemanticConventions.ErrorType, label);
        }

        if (grpcStatus >= 0)
        {
            activity.SetTag(SemanticConventions.RpcGrpcStatusCode, grpcStatus);
        }

        // Client spans: 4xx is an error too (OpenTelemetry HTTP span status rules); 0 = no response at all.
        if (statusCode >= 400 || statusCode == 0 || grpcStatus > 0)
        {
            activity.SetStatus(ActivityStatusCode.Error, label);
        }
    }

    /// <summary>Records on an attempt's span that a retry follows it, after <paramref name="wait"/>, for <paramref name="reason"/>.</summary>
    public static void SetRetry(Activity? activity, string reason, TimeSpan wait)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SemanticConventions.SidecarRetryReason, reason);
            activity.SetTag(SemanticConventions.SidecarRetryWaitMs, (long)wait.TotalMilliseconds);
        }
    }

    /// <summary>Records on the last attempt's span why no retry followed: the skip reason's label, or the outcome's.</summary>
    public static void SetStop(Activity? activity, string stopReason)
    {
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SemanticConventions.SidecarStopReason, stopReason);
        }
    }

    /// <summary>
    /// Records a request's outcome (see <see cref="SidecarMetrics.RequestCompleted"/>) and attempts made, and for a gRPC
    /// call its final status (<paramref name="grpcStatus"/>, negative for other requests); a non-OK one is an error.
    /// </summary>
    public static void SetRequestOutcome(Activity? activity, RequestOutcome outcome, int attempts, int statusCode = 0, int grpcStatus = -1)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        var label = outcome.Label();
        activity.SetTag(SemanticConventions.SidecarOutcome, label);
        activity.SetTag(SemanticConventions.SidecarAttempts, attempts);
        if (statusCode > 0)
        {
            activity.SetTag(SemanticConventions.HttpResponseStatusCode, statusCode);
        }

        if (grpcStatus >= 0)
        {
            activity.SetTag(SemanticConventions.RpcGrpcStatusCode, grpcStatus);
        }

        if (statusCode >= 500 || grpcStatus > 0)
        {
            activity.SetStatus(ActivityStatusCode.Error, label);
        }
    }

    private static void ReadHeader(object? carrier, string fieldName, out string? fieldValue, out IEnumerable<string>? fieldValues)
    {
        fieldValues = null;
        fieldValue = ((IHeaderDictionary)carrier!)[fieldName];
    }
}
