using System.Text.Json;
using Sidecar.Configuration;

namespace Sidecar.Admin;

/// <summary>
/// Renders the configuration in force as JSON for <c>/config</c>, with every default filled in. URLs go through
/// <see cref="UrlRedaction"/>, as everywhere Sidecar shows one.
/// </summary>
internal static class EffectiveConfigWriter
{
    public static async Task WriteAsync(HttpContext context, SidecarConfig config)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            Write(json, config);
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    internal static void Write(Utf8JsonWriter json, SidecarConfig config)
    {
        json.WriteStartObject();
        json.WriteString("source", config.SourcePath);
        json.WriteStartObject(SidecarConfigKeys.Listen);
        json.WriteString(ListenKeys.Proxy, UrlRedaction.Redact(config.Listen.Proxy));
        json.WriteString(ListenKeys.Admin, UrlRedaction.Redact(config.Listen.Admin));
        // Absent, as in the file, when unset: the metrics are then on the admin port.
        if (config.Listen.Metrics is { } metrics)
        {
            json.WriteString(ListenKeys.Metrics, UrlRedaction.Redact(metrics));
        }

        json.WriteString(ListenKeys.ProxyProtocol, ConfigSpellings.Name(ConfigSpellings.ProxyProtocols, config.Listen.ProxyProtocol));
        if (config.Listen.Tls is { } listenTls)
        {
            json.WriteStartObject(ListenKeys.Tls);
            json.WriteString(ListenKeys.TlsKeys.CertFile, listenTls.CertFile);
            json.WriteString(ListenKeys.TlsKeys.KeyFile, listenTls.KeyFile);
            if (listenTls.ClientCaFile is { } clientCa)
            {
                json.WriteString(ListenKeys.TlsKeys.ClientCaFile, clientCa);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject(SidecarConfigKeys.Clusters);
        foreach (var cluster in config.Clusters.Values)
        {
            json.WriteStartObject(cluster.Name);
            json.WriteStartArray(ClusterKeys.Destinations);
            foreach (var destination in cluster.Destinations)
            {
                json.WriteStringValue(UrlRedaction.Redact(destination));
            }

            json.WriteEndArray();
            json.WriteString(ClusterKeys.LoadBalancing, cluster.LoadBalancing);
            json.WriteString(ClusterKeys.Protocol, ConfigSpellings.Name(ConfigSpellings.Protocols, cluster.Protocol));
            json.WriteStartObject(ClusterKeys.Health);
            json.WriteBoolean(ClusterKeys.HealthKeys.Passive, cluster.Health.Passive);
            json.WriteString(ClusterKeys.HealthKeys.ReactivationPeriod, Duration(cluster.Health.ReactivationPeriod));
            if (cluster.Health.Active is { } active)
            {
                json.WriteStartObject(ClusterKeys.HealthKeys.Active);
                json.WriteString(ClusterKeys.ActiveHealthKeys.Interval, Duration(active.Interval));
                json.WriteString(ClusterKeys.ActiveHealthKeys.Timeout, Duration(active.Timeout));
                json.WriteString(ClusterKeys.ActiveHealthKeys.Path, UrlRedaction.RedactQuery(active.Path));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            if (cluster.CircuitBreaker is { } breaker)
            {
                json.WriteStartObject(ClusterKeys.CircuitBreaker);
                json.WriteNumber(ClusterKeys.CircuitBreakerKeys.FailureRatio, breaker.FailureRatio);
                json.WriteNumber(ClusterKeys.CircuitBreakerKeys.MinimumRequests, breaker.MinimumRequests);
                json.WriteString(ClusterKeys.CircuitBreakerKeys.Window, Duration(breaker.Window));
                json.WriteString(ClusterKeys.CircuitBreakerKeys.BreakDuration, Duration(breaker.BreakDuration));
                json.WriteEndObject();
            }

            if (cluster.Tls is { } tls)
            {
                WriteTls(json, tls);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject(SidecarConfigKeys.Policies);
        foreach (var policy in config.Policies.Values)
        {
            WritePolicy(json, policy);
        }

        json.WriteEndObject();

        json.WriteStartArray(SidecarConfigKeys.Routes);
        foreach (var route in config.Routes)
        {
            json.WriteStartObject();
            json.WriteString(RouteKeys.Name, route.Name);
            json.WriteStartObject(RouteKeys.Match);
            json.WriteString(RouteKeys.MatchKeys.Path, route.Match.Path);
            WriteStrings(json, RouteKeys.MatchKeys.Methods, route.Match.Methods);
            WriteStrings(json, RouteKeys.MatchKeys.Hosts, route.Match.Hosts);
            json.WriteStartArray(RouteKeys.MatchKeys.Headers);
            foreach (var header in route.Match.Headers)
            {
                json.WriteStartObject();
                json.WriteString(HeaderKeys.Name, header.Name);
                // A route matched on a header is often matched on a shared secret (x-internal-token): /config shows
                // that a value is required, never the value.
                WriteStrings(json, HeaderKeys.Values, [.. header.Values.Select(static _ => UrlRedaction.Redacted)]);
                json.WriteString(HeaderKeys.Mode, ConfigSpellings.Name(ConfigSpellings.HeaderModes, header.Mode));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString(RouteKeys.Cluster, route.Cluster);
            if (route.Policy is not null)
            {
                json.WriteString(RouteKeys.Policy, route.Policy);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();

        WriteLimits(json, config.Limits);
        json.WriteStartObject(SidecarConfigKeys.Telemetry);
        json.WriteBoolean(TelemetryKeys.DotnetMetrics, config.Telemetry.DotnetMetrics);
        json.WriteEndObject();
        json.WriteStartObject(SidecarConfigKeys.Logs);
        json.WriteString(LogsKeys.Access, ConfigSpellings.Name(ConfigSpellings.AccessLogModes, config.Logs.Access));
        json.WriteNumber(LogsKeys.AccessSample, config.Logs.AccessSample);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteLimits(Utf8JsonWriter json, LimitsOptions limits)
    {
        json.WriteStartObject(SidecarConfigKeys.Limits);
        json.WriteString(LimitsKeys.MaxBufferedBytes, SizeParser.Format(limits.MaxBufferedBytes));
        json.WriteNumber(LimitsKeys.MaxConcurrentRequests, limits.MaxConcurrentRequests);
        json.WriteNumber(LimitsKeys.MaxPendingConnections, limits.MaxPendingConnections);
        json.WriteString(LimitsKeys.MaxQueueWait, Duration(limits.MaxQueueWait));
        json.WriteNumber(LimitsKeys.MaxWaitingRetries, limits.MaxWaitingRetries);
        json.WriteString(LimitsKeys.IdleConnectionTimeout, Duration(limits.IdleConnectionTimeout));
        json.WriteString(LimitsKeys.RequestHeaderTimeout, Duration(limits.RequestHeaderTimeout));
        json.WriteString(LimitsKeys.MinRequestBodyRate, SizeParser.Format(limits.MinRequestBodyRate));
        json.WriteString(LimitsKeys.DrainTimeout, Duration(limits.DrainTimeout));
        json.WriteString(LimitsKeys.DrainDelay, Duration(limits.DrainDelay));
        var overload = limits.Overload;
        json.WriteStartObject(LimitsKeys.Overload);
        json.WriteBoolean(LimitsKeys.OverloadKeys.Enabled, overload.Enabled);
        json.WriteString(LimitsKeys.OverloadKeys.CheckInterval, Duration(overload.CheckInterval));
        json.WriteNumber(LimitsKeys.OverloadKeys.StopBuffering, overload.StopBuffering);
        json.WriteNumber(LimitsKeys.OverloadKeys.RejectRequests, overload.RejectRequests);
        json.WriteNumber(LimitsKeys.OverloadKeys.StopAccepting, overload.StopAccepting);
        json.WriteNumber(LimitsKeys.OverloadKeys.RecoveryMargin, overload.RecoveryMargin);
        json.WriteEndObject();
        // Where the memory-bound values come from: the file, or the memory this process has.
        json.WriteStartObject("origin");
        json.WriteString(LimitsKeys.MaxBufferedBytes, limits.Origin(limits.MaxBufferedBytesConfigured));
        json.WriteString(LimitsKeys.MaxConcurrentRequests, limits.Origin(limits.MaxConcurrentRequestsConfigured));
        json.WriteString(LimitsKeys.MaxPendingConnections, limits.Origin(limits.MaxPendingConnectionsConfigured));
        json.WriteEndObject();
        json.WriteStartObject("memory");
        json.WriteNumber("available_bytes", limits.Memory.AvailableBytes);
        json.WriteString("source", limits.Memory.Source);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WritePolicy(Utf8JsonWriter json, RetryPolicyOptions policy)
    {
        json.WriteStartObject(policy.Name);
        json.WriteNumber(PolicyKeys.MaxAttempts, policy.MaxAttempts);
        json.WriteStartObject(PolicyKeys.Backoff);
        json.WriteString(BackoffKeys.Algorithm, ConfigSpellings.Name(ConfigSpellings.Algorithms, policy.Backoff.Algorithm));
        json.WriteString(BackoffKeys.Base, Duration(policy.Backoff.Base));
        json.WriteString(BackoffKeys.Max, Duration(policy.Backoff.Max));
        json.WriteNumber(BackoffKeys.Multiplier, policy.Backoff.Multiplier);
        json.WriteString(BackoffKeys.Jitter, ConfigSpellings.Name(ConfigSpellings.JitterModes, policy.Backoff.Jitter));
        json.WriteNumber(BackoffKeys.JitterFactor, policy.Backoff.JitterFactor);
        json.WriteEndObject();
        json.WriteStartObject(PolicyKeys.RetryOn);
        json.WriteStartArray(RetryOnKeys.Status);
        foreach (var status in policy.RetryOn.Status)
        {
            json.WriteStringValue(status.ToString());
        }

        json.WriteEndArray();
        json.WriteStartArray(RetryOnKeys.Errors);
        foreach (var (name, error) in ConfigSpellings.ErrorNames)
        {
            if ((policy.RetryOn.Errors & error) != 0)
            {
                json.WriteStringValue(name);
            }
        }

        json.WriteEndArray();
        json.WriteStartArray(RetryOnKeys.Headers);
        foreach (var header in policy.RetryOn.Headers)
        {
            WriteResponseHeader(json, header);
        }

        json.WriteEndArray();
        json.WriteStartArray("grpc");
        foreach (var code in policy.RetryOn.Grpc)
        {
            json.WriteStringValue(Grpc.GrpcStatus.ConfigName(code));
        }

        json.WriteEndArray();
        json.WriteEndObject();
        WriteStrings(json, PolicyKeys.Methods, policy.Methods.Order(StringComparer.Ordinal).ToList());
        WriteOptionalDuration(json, PolicyKeys.PerTryTimeout, policy.PerTryTimeout);
        WriteOptionalDuration(json, PolicyKeys.Timeout, policy.Timeout);
        json.WriteStartObject(PolicyKeys.RetryAfter);
        json.WriteBoolean(PolicyKeys.RetryAfterKeys.Honor, policy.RetryAfter.Honor);
        json.WriteString(PolicyKeys.RetryAfterKeys.Max, Duration(policy.RetryAfter.Max));
        json.WriteEndObject();
        json.WriteString(PolicyKeys.BufferLimit, SizeParser.Format(policy.BufferLimit));
        json.WriteStartObject(PolicyKeys.Budget);
        json.WriteBoolean(PolicyKeys.BudgetKeys.Enabled, policy.Budget.Enabled);
        json.WriteNumber(PolicyKeys.BudgetKeys.Ratio, policy.Budget.Ratio);
        json.WriteNumber(PolicyKeys.BudgetKeys.MinPerSecond, policy.Budget.MinPerSecond);
        json.WriteString(PolicyKeys.BudgetKeys.Window, Duration(policy.Budget.Window));
        json.WriteEndObject();
        json.WriteNumber(PolicyKeys.MaxConcurrentRetries, policy.MaxConcurrentRetries);
        json.WriteBoolean(PolicyKeys.AllowOverrides, policy.AllowOverrides);
        json.WriteBoolean(PolicyKeys.AllowExplain, policy.AllowExplain);
        json.WriteStartArray(PolicyKeys.RetryUntil);
        foreach (var condition in policy.RetryUntil)
        {
            json.WriteStartObject();
            if (condition.Status.Count > 0)
            {
                json.WriteStartArray(PolicyKeys.ConditionKeys.Status);
                foreach (var status in condition.Status)
                {
                    json.WriteStringValue(status.ToString());
                }

                json.WriteEndArray();
            }

            if (condition.Header is { } header)
            {
                json.WritePropertyName(PolicyKeys.ConditionKeys.Header);
                WriteResponseHeader(json, header);
            }

            if (condition.JsonPath is { } path)
            {
                json.WriteStartObject(PolicyKeys.ConditionKeys.Json);
                json.WriteString(PolicyKeys.JsonConditionKeys.Path, path);
                json.WriteString(PolicyKeys.JsonConditionKeys.Equal, condition.JsonEquals);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (policy.Hedge is { } hedge)
        {
            json.WriteStartObject(PolicyKeys.Hedge);
            json.WriteString(PolicyKeys.HedgeKeys.Delay, Duration(hedge.Delay));
            json.WriteNumber(PolicyKeys.HedgeKeys.MaxExtra, hedge.MaxExtra);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (var value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }

    private static void WriteResponseHeader(Utf8JsonWriter json, ResponseHeaderMatcher header)
    {
        json.WriteStartObject();
        json.WriteString(HeaderKeys.Name, header.Name);
        WriteStrings(json, HeaderKeys.Values, header.Values);
        json.WriteEndObject();
    }

    private static void WriteOptionalDuration(Utf8JsonWriter json, string name, TimeSpan? value)
    {
        if (value is { } duration)
        {
            json.WriteString(name, Duration(duration));
        }
    }

    /// <summary>A duration as the YAML writes it (<c>1s</c>, <c>250ms</c>, <c>2m</c>).</summary>
    internal static string Duration(TimeSpan value) => DurationParser.Format(value);

    /// <summary>File paths (absolute, as resolved at load), never their contents; <c>insecure_skip_verify</c> always, so an operator sees it.</summary>
    private static void WriteTls(Utf8JsonWriter json, UpstreamTlsOptions tls)
    {
        json.WriteStartObject(ClusterKeys.Tls);
        WriteIfSet(json, ClusterKeys.TlsKeys.CaFile, tls.CaFile);
        WriteIfSet(json, ClusterKeys.TlsKeys.CertFile, tls.CertFile);
        WriteIfSet(json, ClusterKeys.TlsKeys.KeyFile, tls.KeyFile);
        WriteIfSet(json, ClusterKeys.TlsKeys.ServerName, tls.ServerName);
        json.WriteString(ClusterKeys.TlsKeys.MinVersion, ConfigSpellings.Name(ConfigSpellings.TlsVersions, tls.MinVersion));
        json.WriteBoolean(ClusterKeys.TlsKeys.InsecureSkipVerify, tls.InsecureSkipVerify);
        json.WriteEndObject();
    }

    private static void WriteIfSet(Utf8JsonWriter json, string key, string? value)
    {
        if (value is not null)
        {
            json.WriteString(key, value);
        }
    }

}
