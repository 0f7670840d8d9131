using System.Globalization;
using Sidecar.Configuration;
using Sidecar.Policies;

namespace Sidecar.Cli;

/// <summary><c>sidecar validate</c>: every error with file:line:column and key, or the limits, the TLS of the listener and clusters (<see cref="TlsSummary"/>) and each route with its effective policy.</summary>
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
        output.WriteLine($"{SidecarConfigKeys.Listen}: {ListenKeys.Proxy} {UrlRedaction.Redact(config.Listen.Proxy)}, {ListenKeys.Admin} {UrlRedaction.Redact(config.Listen.Admin)}"
            + (config.Listen.Metrics is { } metrics ? $", {ListenKeys.Metrics} {UrlRedaction.Redact(metrics)}" : string.Empty));
        WriteLimits(output, config.Limits);
        TlsSummary.Write(output, config, TimeProvider.System.GetUtcNow());
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
        if (limits.Memory.TooSmall)
        {
            output.WriteLine("  warning: too little memory for this build; limits are at their minimum (README: Sizing the pod)");
        }

        output.WriteLine($"  {LimitsKeys.MaxBufferedBytes} {SizeParser.Format(limits.MaxBufferedBytes)} ({limits.Origin(limits.MaxBufferedBytesConfigured)})");
        output.WriteLine($"  {LimitsKeys.MaxConcurrentRequests} {limits.MaxConcurrentRequests} ({limits.Origin(limits.MaxConcurrentRequestsConfigured)})");
        output.WriteLine($"  {LimitsKeys.MaxPendingConnections} {limits.MaxPendingConnections} ({limits.Origin(limits.MaxPendingConnectionsConfigured)})");
        output.WriteLine($"  {LimitsKeys.MaxQueueWait} {Format(limits.MaxQueueWait)} (a request without a deadline; one with a deadline waits until it)");
        output.WriteLine($"  {LimitsKeys.IdleConnectionTimeout} {Format(limits.IdleConnectionTimeout)}, {LimitsKeys.RequestHeaderTimeout} {Format(limits.RequestHeaderTimeout)}, {LimitsKeys.MinRequestBodyRate} {(limits.MinRequestBodyRate == 0 ? "off" : SizeParser.Format(limits.MinRequestBodyRate) + "/s")}");
        output.WriteLine($"  {LimitsKeys.MaxWaitingRetries} {limits.MaxWaitingRetries}, {LimitsKeys.DrainDelay} {Format(limits.DrainDelay)}, {LimitsKeys.DrainTimeout} {Format(limits.DrainTimeout)}");
        var overload = limits.Overload;
        output.WriteLine(overload.Enabled
            ? string.Create(CultureInfo.InvariantCulture, $"  overload: memory pressure checked every {Format(overload.CheckInterval)}; stop buffering at {overload.StopBuffering}, reject requests at {overload.RejectRequests}, stop accepting at {overload.StopAccepting}; each off again {overload.RecoveryMargin} lower")
            : "  overload: off");
    }

    private static void WritePolicy(TextWriter output, RetryPolicyOptions policy)
    {
        var backoff = policy.Backoff;
        output.WriteLine($"  policy {policy.Name}: {PolicyKeys.MaxAttempts} {policy.MaxAttempts}, {PolicyKeys.Methods} {string.Join(",", policy.Methods.Order(StringComparer.Ordinal))} (+POST/PATCH with Idempotency-Key)");
        output.WriteLine($"    {PolicyKeys.RetryOn}: {RetryOnKeys.Status} [{string.Join(", ", policy.RetryOn.Status)}], {RetryOnKeys.Errors} [{ErrorNames(policy.RetryOn.Errors)}]" +
            (policy.RetryOn.Headers.Count > 0 ? $", {RetryOnKeys.Headers} [{string.Join(", ", policy.RetryOn.Headers.Select(h => h.Name))}]" : string.Empty) +
            (policy.RetryOn.Grpc.Count > 0 ? $", {RetryOnKeys.Grpc} [{string.Join(", ", policy.RetryOn.Grpc.Select(Grpc.GrpcStatus.ConfigName))}]" : string.Empty));
        output.WriteLine($"    {PolicyKeys.Timeout} {Format(policy.Timeout)}, {PolicyKeys.PerTryTimeout} {Format(policy.PerTryTimeout)}, {PolicyKeys.BufferLimit} {SizeParser.Format(policy.BufferLimit)}, " +
            $"{PolicyKeys.RetryAfter} {(policy.RetryAfter.Honor ? "honoured up to " + Format(policy.RetryAfter.Max) : "ignored")}, overrides {(policy.AllowOverrides ? "allowed" : "ignored")}");
        output.WriteLine(policy.Budget.Enabled
            ? $"    {PolicyKeys.Budget}: retries <= {policy.Budget.Ratio.ToString(CultureInfo.InvariantCulture)} x upstream requests, at least {policy.Budget.MinPerSecond}/s, over {Format(policy.Budget.Window)}, {PolicyKeys.MaxConcurrentRetries} {policy.MaxConcurrentRetries}"
            : $"    {PolicyKeys.Budget}: off, {PolicyKeys.MaxConcurrentRetries} {policy.MaxConcurrentRetries}");
        output.WriteLine($"    {PolicyKeys.Backoff} {ConfigSpellings.Name(ConfigSpellings.Algorithms, backoff.Algorithm)} {BackoffKeys.Base} {Format(backoff.Base)} {BackoffKeys.Max} {Format(backoff.Max)} {BackoffKeys.Multiplier} {backoff.Multiplier.ToString(CultureInfo.InvariantCulture)} {BackoffKeys.Jitter} {ConfigSpellings.Name(ConfigSpellings.JitterModes, backoff.Jitter)} ({backoff.JitterFactor.ToString(CultureInfo.InvariantCulture)})");
        var schedule = new BackoffSchedule(backoff, policy.MaxAttempts);
        for (var retry = 1; retry < policy.MaxAttempts; retry++)
        {
            var (min, max) = schedule.Bounds(retry);
            output.WriteLine($"      retry {retry} (before attempt {retry + 1}): delay {Format(min)} .. {Format(max)}");
        }

        if (policy.MaxAttempts == 1)
        {
            output.WriteLine($"      no retries ({PolicyKeys.MaxAttempts} 1)");
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
