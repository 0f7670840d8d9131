using System.Globalization;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Cli;

/// <summary><c>sidecar validate</c>: every error with file:line:column and key, or each route with its effective policy.</summary>
internal static class ValidateCommand
{
    public static int Run(string? configPath, TextWriter output, TextWriter error)
    {
        var (result, path, _) = ConfigSource.Load(configPath);
        if (!result.Succeeded)
        {
            WriteErrors(result, error);
            return 1;
        }

        var config = result.Config!;
        output.WriteLine($"{path ?? ConfigSource.EmbeddedName}: valid ({config.Routes.Count} routes, {config.Clusters.Count} clusters, {config.Policies.Count} policies)");
        output.WriteLine($"listen: proxy {UrlRedaction.Redact(config.Listen.Proxy)}, admin {UrlRedaction.Redact(config.Listen.Admin)}");
        WriteLimits(output, config.Limits);
        foreach (var route in config.Routes)
        {
            var match = route.Match;
            var methods = match.Methods.Count == 0 ? "any method" : string.Join(",", match.Methods);
            output.WriteLine();
            output.WriteLine($"route {route.Name}: {methods} {match.Path} -> cluster {route.Cluster} ({string.Join(", ", config.Clusters[route.Cluster].Destinations.Select(UrlRedaction.Redact))})");
            if (match.Hosts.Count > 0)
            {
                output.WriteLine($"  hosts: {string.Join(", ", match.Hosts)}");
            }

            foreach (var header in match.Headers)
            {
                output.WriteLine($"  header: {header.Name} {ConfigSpellings.Name(ConfigSpellings.HeaderModes, header.Mode)} {string.Join("|", header.Values)}");
            }

            if (route.Policy is null || !config.Policies.TryGetValue(route.Policy, out var policy))
            {
                output.WriteLine("  policy: none (forwarded once, no retries, no body buffering)");
                continue;
            }

            WritePolicy(output, policy);
        }

        return 0;
    }

    public static void WriteErrors(ConfigLoadResult result, TextWriter error)
    {
        foreach (var e in result.Errors)
        {
            error.WriteLine(e.ToString());
        }

        error.WriteLine($"{result.Errors.Count} error(s); configuration rejected.");
    }

    private static void WriteLimits(TextWriter output, LimitsOptions limits)
    {
        output.WriteLine($"limits (memory available: {MemoryBudget.FormatMebibytes(limits.Memory.AvailableBytes)}, {limits.Memory.Source}):");
        output.WriteLine($"  max_buffered_bytes {SizeParser.Format(limits.MaxBufferedBytes)} ({limits.Origin(limits.MaxBufferedBytesConfigured)})");
        output.WriteLine($"  max_concurrent_requests {limits.MaxConcurrentRequests} ({limits.Origin(limits.MaxConcurrentRequestsConfigured)})");
        output.WriteLine($"  max_pending_connections {limits.MaxPendingConnections} ({limits.Origin(limits.MaxPendingConnectionsConfigured)})");
        output.WriteLine($"  max_waiting_retries {limits.MaxWaitingRetries}, drain_delay {Format(limits.DrainDelay)}, drain_timeout {Format(limits.DrainTimeout)}");
        var overload = limits.Overload;
        output.WriteLine(overload.Enabled
            ? string.Create(CultureInfo.InvariantCulture, $"  overload: memory pressure checked every {Format(overload.CheckInterval)}; stop buffering at {overload.StopBuffering}, reject requests at {overload.RejectRequests}, stop accepting at {overload.StopAccepting}; each off again {overload.RecoveryMargin} lower")
            : "  overload: off");
    }

    private static void WritePolicy(TextWriter output, RetryPolicyOptions policy)
    {
        var backoff = policy.Backoff;
        output.WriteLine($"  policy {policy.Name}: max_attempts {policy.MaxAttempts}, methods {string.Join(",", policy.Methods.Order(StringComparer.Ordinal))} (+POST/PATCH with Idempotency-Key)");
        output.WriteLine($"    retry_on: status [{string.Join(", ", policy.RetryOn.Status)}], errors [{ErrorNames(policy.RetryOn.Errors)}]" +
            (policy.RetryOn.Headers.Count > 0 ? $", headers [{string.Join(", ", policy.RetryOn.Headers.Select(h => h.Name))}]" : string.Empty));
        output.WriteLine($"    timeout {Format(policy.Timeout)}, per_try_timeout {Format(policy.PerTryTimeout)}, buffer_limit {SizeParser.Format(policy.BufferLimit)}, " +
            $"retry_after {(policy.RetryAfter.Honor ? "honoured up to " + Format(policy.RetryAfter.Max) : "ignored")}, overrides {(policy.AllowOverrides ? "allowed" : "ignored")}");
        output.WriteLine(policy.Budget.Enabled
            ? $"    budget: retries <= {policy.Budget.Ratio.ToString(CultureInfo.InvariantCulture)} x upstream requests, at least {policy.Budget.MinPerSecond}/s, over {Format(policy.Budget.Window)}, max_concurrent_retries {policy.MaxConcurrentRetries}"
            : $"    budget: off, max_concurrent_retries {policy.MaxConcurrentRetries}");
        output.WriteLine($"    backoff {ConfigSpellings.Name(ConfigSpellings.Algorithms, backoff.Algorithm)} base {Format(backoff.Base)} max {Format(backoff.Max)} multiplier {backoff.Multiplier.ToString(CultureInfo.InvariantCulture)} jitter {ConfigSpellings.Name(ConfigSpellings.JitterModes, backoff.Jitter)} ({backoff.JitterFactor.ToString(CultureInfo.InvariantCulture)})");
        var schedule = new BackoffSchedule(backoff, policy.MaxAttempts);
        for (var retry = 1; retry < policy.MaxAttempts; retry++)
        {
            var (min, max) = schedule.Bounds(retry);
            output.WriteLine($"      retry {retry} (before attempt {retry + 1}): delay {Format(min)} .. {Format(max)}");
        }

        if (policy.MaxAttempts == 1)
        {
            output.WriteLine("      no retries (max_attempts 1)");
        }
    }

    private static string ErrorNames(RetryableErrors errors)
    {
        var names = new List<string>(ConfigSpellings.ErrorNames.Length);
        foreach (var (name, error) in ConfigSpellings.ErrorNames)
        {
            if ((errors & error) != 0)
            {
                names.Add(name);
            }
        }

        return string.Join(", ", names);
    }

    private static string Format(TimeSpan? value) => value is { } v ? Format(v) : "none";

    private static string Format(TimeSpan value) => DurationParser.Format(value);
}
