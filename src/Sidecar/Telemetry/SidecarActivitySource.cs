using System.Diagnostics;

namespace Sidecar.Telemetry;

/// <summary>
/// Spans of SPEC §5: one per proxied request and a child per upstream attempt. The helpers return
/// null, without allocating, when no listener samples the source.
/// </summary>
internal static class SidecarActivitySource
{
    /// <summary>The name of the activity source, for <c>AddSource</c>.</summary>
    public const string Name = "Sidecar";

    public const string AttemptActivityName = "sidecar.attempt";

    public static readonly ActivitySource Source = new(Name, typeof(SidecarActivitySource).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts the span of a proxied request, named <c>{method} {route}</c> after the OpenTelemetry
    /// HTTP server span convention (the route name stands for the route template: bounded, no raw path).
    /// The method is the caller's: only a known one is shown (see <see cref="HttpMethodLabel"/>).
    /// </summary>
    public static Activity? StartRequest(string route, string method)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var label = HttpMethodLabel.Of(method);
        var activity = Source.StartActivity(ActivityKind.Server, name: HttpMethodLabel.SpanPrefix(label) + " " + route);
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

    /// <summary>Records how an attempt ended (<c>2xx</c>, <c>connect_failure</c>, ...) and its status code if any.</summary>
    public static void SetAttemptResult(Activity? activity, string result, int statusCode = 0)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(SemanticConventions.SidecarResult, result);
        if (statusCode > 0)
        {
            activity.SetTag(SemanticConventions.HttpResponseStatusCode, statusCode);
        }

        // Client spans: 4xx is an error too (OpenTelemetry HTTP span status rules); 0 = no response at all.
        if (statusCode >= 400 || statusCode == 0)
        {
            activity.SetStatus(ActivityStatusCode.Error, result);
        }
    }

    /// <summary>Records a request's outcome (see <see cref="SidecarMetrics.RequestCompleted"/>) and attempts made.</summary>
    public static void SetRequestOutcome(Activity? activity, string outcome, int attempts, int statusCode = 0)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(SemanticConventions.SidecarOutcome, outcome);
        activity.SetTag(SemanticConventions.SidecarAttempts, attempts);
        if (statusCode > 0)
        {
            activity.SetTag(SemanticConventions.HttpResponseStatusCode, statusCode);
        }

        if (statusCode >= 500)
        {
            activity.SetStatus(ActivityStatusCode.Error, outcome);
        }
    }
}
