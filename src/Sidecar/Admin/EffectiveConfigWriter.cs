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
        json.WriteStartObject("listen");
        json.WriteString("proxy", UrlRedaction.Redact(config.Listen.Proxy));
        json.WriteString("admin", UrlRedaction.Redact(config.Listen.Admin));
        json.WriteString("proxy_protocol", ConfigSpellings.Name(ConfigSpellings.ProxyProtocols, config.Listen.ProxyProtocol));
        json.WriteEndObject();

        json.WriteStartObject("clusters");
        foreach (var cluster in config.Clusters.Values)
        {
            json.WriteStartObject(cluster.Name);
            json.WriteStartArray("destinations");
            foreach (var destination in cluster.Destinations)
            {
                json.WriteStringValue(UrlRedaction.Redact(destination));
            }

            json.WriteEndArray();
            json.WriteString("load_balancing", cluster.LoadBalancing);
            json.WriteString("protocol", ConfigSpellings.Name(ConfigSpellings.Protocols, cluster.Protocol));
            json.WriteStartObject("health");
            json.WriteBoolean("passive", cluster.Health.Passive);
            json.WriteString("reactivation_period", Duration(cluster.Health.ReactivationPeriod));
            if (cluster.Health.Active is { } active)
            {
                json.WriteStartObject("active");
                json.WriteString("interval", Duration(active.Interval));
                json.WriteString("timeout", Duration(active.Timeout));
                json.WriteString("path", active.Path);
                json.WriteEndObject();
            }

            json.WriteEndObject();
            if (cluster.CircuitBreaker is { } breaker)
            {
                json.WriteStartObject("circuit_breaker");
                json.WriteNumber("failure_ratio", breaker.FailureRatio);
                json.WriteNumber("minimum_requests", breaker.MinimumRequests);
                json.WriteString("window", Duration(breaker.Window));
                json.WriteString("break_duration", Duration(breaker.BreakDuration));
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();

        json.WriteStartObject("policies");
        foreach (var policy in config.Policies.Values)
        {
            WritePolicy(json, policy);
        }

        json.WriteEndObject();

        json.WriteStartArray("routes");
        foreach (var route in config.Routes)
        {
            json.WriteStartObject();
            json.WriteString("name", route.Name);
            json.WriteStartObject("match");
            json.WriteString("path", route.Match.Path);
            WriteStrings(json, "methods", route.Match.Methods);
            WriteStrings(json, "hosts", route.Match.Hosts);
            json.WriteStartArray("headers");
            foreach (var header in route.Match.Headers)
            {
                json.WriteStartObject();
                json.WriteString("name", header.Name);
                WriteStrings(json, "values", header.Values);
                json.WriteString("mode", ConfigSpellings.Name(ConfigSpellings.HeaderModes, header.Mode));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteString("cluster", route.Cluster);
            if (route.Policy is not null)
            {
                json.WriteString("policy", route.Policy);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();

        WriteLimits(json, config.Limits);
        json.WriteStartObject("telemetry");
        json.WriteBoolean("dotnet_metrics", config.Telemetry.DotnetMetrics);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteLimits(Utf8JsonWriter json, LimitsOptions limits)
    {
        json.WriteStartObject("limits");
        json.WriteString("max_buffered_bytes", SizeParser.Format(limits.MaxBufferedBytes));
        json.WriteNumber("max_concurrent_requests", limits.MaxConcurrentRequests);
        json.WriteNumber("max_pending_connections", limits.MaxPendingConnections);
        json.WriteNumber("max_waiting_retries", limits.MaxWaitingRetries);
        json.WriteString("drain_timeout", Duration(limits.DrainTimeout));
        json.WriteString("drain_delay", Duration(limits.DrainDelay));
        var overload = limits.Overload;
        json.WriteStartObject("overload");
        json.WriteBoolean("enabled", overload.Enabled);
        json.WriteString("check_interval", Duration(overload.CheckInterval));
        json.WriteNumber("stop_buffering", overload.StopBuffering);
        json.WriteNumber("reject_requests", overload.RejectRequests);
        json.WriteNumber("stop_accepting", overload.StopAccepting);
        json.WriteNumber("recovery_margin", overload.RecoveryMargin);
        json.WriteEndObject();
        // Where the memory-bound values come from: the file, or the memory this process has.
        json.WriteStartObject("origin");
        json.WriteString("max_buffered_bytes", limits.Origin(limits.MaxBufferedBytesConfigured));
        json.WriteString("max_concurrent_requests", limits.Origin(limits.MaxConcurrentRequestsConfigured));
        json.WriteString("max_pending_connections", limits.Origin(limits.MaxPendingConnectionsConfigured));
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
        json.WriteNumber("max_attempts", policy.MaxAttempts);
        json.WriteStartObject("backoff");
        json.WriteString("algorithm", ConfigSpellings.Name(ConfigSpellings.Algorithms, policy.Backoff.Algorithm));
        json.WriteString("base", Duration(policy.Backoff.Base));
        json.WriteString("max", Duration(policy.Backoff.Max));
        json.WriteNumber("multiplier", policy.Backoff.Multiplier);
        json.WriteString("jitter", ConfigSpellings.Name(ConfigSpellings.JitterModes, policy.Backoff.Jitter));
        json.WriteNumber("jitter_factor", policy.Backoff.JitterFactor);
        json.WriteEndObject();
        json.WriteStartObject("retry_on");
        json.WriteStartArray("status");
        foreach (var status in policy.RetryOn.Status)
        {
            json.WriteStringValue(status.ToString());
        }

        json.WriteEndArray();
        json.WriteStartArray("errors");
        foreach (var (name, error) in ConfigSpellings.ErrorNames)
        {
            if ((policy.RetryOn.Errors & error) != 0)
            {
                json.WriteStringValue(name);
            }
        }

        json.WriteEndArray();
        json.WriteStartArray("headers");
        foreach (var header in policy.RetryOn.Headers)
        {
            WriteResponseHeader(json, header);
        }

        json.WriteEndArray();
        json.WriteEndObject();
        WriteStrings(json, "methods", policy.Methods.Order(StringComparer.Ordinal).ToList());
        WriteOptionalDuration(json, "per_try_timeout", policy.PerTryTimeout);
        WriteOptionalDuration(json, "timeout", policy.Timeout);
        json.WriteStartObject("retry_after");
        json.WriteBoolean("honor", policy.RetryAfter.Honor);
        json.WriteString("max", Duration(policy.RetryAfter.Max));
        json.WriteEndObject();
        json.WriteString("buffer_limit", SizeParser.Format(policy.BufferLimit));
        json.WriteStartObject("budget");
        json.WriteBoolean("enabled", policy.Budget.Enabled);
        json.WriteNumber("ratio", policy.Budget.Ratio);
        json.WriteNumber("min_per_second", policy.Budget.MinPerSecond);
        json.WriteString("window", Duration(policy.Budget.Window));
        json.WriteEndObject();
        json.WriteNumber("max_concurrent_retries", policy.MaxConcurrentRetries);
        json.WriteBoolean("allow_overrides", policy.AllowOverrides);
        json.WriteStartArray("retry_until");
        foreach (var condition in policy.RetryUntil)
        {
            json.WriteStartObject();
            if (condition.Status.Count > 0)
            {
                json.WriteStartArray("status");
                foreach (var status in condition.Status)
                {
                    json.WriteStringValue(status.ToString());
                }

                json.WriteEndArray();
            }

            if (condition.Header is { } header)
            {
                json.WritePropertyName("header");
                WriteResponseHeader(json, header);
            }

            if (condition.JsonPath is { } path)
            {
                json.WriteStartObject("json");
                json.WriteString("path", path);
                json.WriteString("equals", condition.JsonEquals);
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        if (policy.Hedge is { } hedge)
        {
            json.WriteStartObject("hedge");
            json.WriteString("delay", Duration(hedge.Delay));
            json.WriteNumber("max_extra", hedge.MaxExtra);
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
        json.WriteString("name", header.Name);
        WriteStrings(json, "values", header.Values);
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
}
