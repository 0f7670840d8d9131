using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Sidecar.Configuration;
using Sidecar.Simulation;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar simulate --config F [--route NAME]... [model flags] [--compare [POLICY...]] [--json]</c>: runs the
/// config's routes through the proxy's own attempt loop against a simulated upstream on a virtual clock
/// (Simulation/<see cref="Simulator"/>). Flags shared with <c>sidecar demo</c> have its names and defaults.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(Option<string?> config)
    {
        var defaults = new SimulationOptions();
        var model = defaults.Upstream;
        var route = new Option<string[]>("--route") { Description = "Route to simulate (repeatable). Default: every route.", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<int>("--seed") { Description = "Seed of every random draw: one seed, one result. Default 42.", DefaultValueFactory = _ => defaults.Seed };
        var duration = DurationOption("--duration", "Virtual time during which calls start, e.g. 60s or 10m. Default 60s.", defaults.Duration);
        var concurrency = new Option<int>("--concurrency") { Description = "Closed loop: callers, each waiting for its answer. Default 8, as the demo.", DefaultValueFactory = _ => defaults.Concurrency };
        var interval = DurationOption("--interval", "Closed loop: each caller starts at most one call per interval. Default 200ms, as the demo.", defaults.Interval);
        var rate = new Option<double?>("--rate") { Description = "Open loop instead: calls per second arriving whatever the answers, e.g. 500/s.", CustomParser = ParseRate };
        var failureRate = new Option<double>("--failure-rate") { Description = "Share of upstream answers that fail with --failure-status, 0 to 1. Default 0.3, as the demo.", DefaultValueFactory = _ => model.FailureRate };
        var failureStatus = new Option<int>("--failure-status") { Description = "The failures' status. Default 503.", DefaultValueFactory = _ => model.FailureStatus };
        // Text, checked by a validator: a custom parser cannot return null for "none".
        var retryAfter = new Option<string>("--retry-after") { Description = "Retry-After on failures: none, whole seconds (2s), or a range (1s..5s). Default 0s, as the demo.", DefaultValueFactory = _ => "0s" };
        retryAfter.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (!RetryAfterModel.TryParse(text, out _, out var error))
            {
                result.AddError($"--retry-after '{text}': {error}.");
            }
        });
        var latency = new Option<LatencyModel>("--latency") { Description = "Upstream answer time: fixed (20ms) or log-normal (p50=20ms,p99=300ms). Default 1ms.", CustomParser = ParseLatency, DefaultValueFactory = _ => model.Latency };
        var slowRate = new Option<double>("--slow-rate") { Description = "Share of answers that come after --slow-delay. Default 0.05, as the demo.", DefaultValueFactory = _ => model.SlowRate };
        var slowDelay = DurationOption("--slow-delay", "How late a slow answer is. Default 1.5s, as the demo.", model.SlowDelay);
        var resetRate = new Option<double>("--reset-rate") { Description = "Share of attempts the upstream resets. Default 0.", DefaultValueFactory = _ => model.ResetRate };
        var outage = new Option<OutageWindow?>("--outage") { Description = "A window when the upstream refuses connections: LENGTH@START, e.g. 30s@1m.", CustomParser = ParseOutage };
        var capacity = new Option<int>("--capacity") { Description = "Requests the upstream serves at once; the rest queue, so latency grows with load. Default 0 (no limit).", DefaultValueFactory = _ => model.Capacity };
        var compare = new Option<string[]>("--compare") { Description = "Also run each route with no retries and with these policies, side by side.", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print the route summaries as JSON (the shape `sidecar demo --json` prints)." };

        var command = new Command(
            "simulate",
            "Run the config's routes through Sidecar's own retry engine against a simulated upstream on a virtual clock: " +
            "no sockets, no waiting, the same result for a --seed. Prints what callers and the upstream would see.");
        Option[] options = [config, route, seed, duration, concurrency, interval, rate, failureRate, failureStatus, retryAfter, latency, slowRate, slowDelay, resetRate, outage, capacity, compare, json];
        foreach (var option in options)
        {
            command.Options.Add(option);
        }

        Share(failureRate);
        Share(slowRate);
        Share(resetRate);
        AtLeast(concurrency, 1);
        AtLeast(capacity, 0);
        failureStatus.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 400 or > 599)
            {
                result.AddError("--failure-status must be a 4xx or 5xx status.");
            }
        });
        command.SetAction(parse =>
        {
            var (loaded, _, _) = ConfigSource.Load(parse.GetValue(config));
            var error = parse.InvocationConfiguration.Error;
            if (!loaded.Succeeded)
            {
                foreach (var e in loaded.Errors)
                {
                    error.WriteLine(e.ToString());
                }

                return 1;
            }

            var simulation = new SimulationOptions
            {
                Seed = parse.GetValue(seed),
                Duration = parse.GetValue(duration),
                Concurrency = parse.GetValue(concurrency),
                Interval = parse.GetValue(interval),
                Rate = parse.GetValue(rate),
                Upstream = new UpstreamModel
                {
                    FailureRate = parse.GetValue(failureRate),
                    FailureStatus = parse.GetValue(failureStatus),
                    RetryAfter = RetryAfterModel.TryParse(parse.GetValue(retryAfter)!, out var parsed, out _) ? parsed : null,
                    Latency = parse.GetValue(latency)!,
                    SlowRate = parse.GetValue(slowRate),
                    SlowDelay = parse.GetValue(slowDelay),
                    ResetRate = parse.GetValue(resetRate),
                    Outage = parse.GetValue(outage),
                    Capacity = parse.GetValue(capacity),
                },
            };
            var compared = parse.GetResult(compare) is null ? null : parse.GetValue(compare) ?? [];
            return Simulator.Run(loaded.Config!, parse.GetValue(route) ?? [], compared, simulation, parse.GetValue(json), parse.InvocationConfiguration.Output, error);
        });
        return command;
    }

    private static Option<TimeSpan> DurationOption(string name, string description, TimeSpan defaultValue) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result =>
        {
            var text = result.Tokens[0].Value;
            if (!DurationParser.TryParse(text, out var value, out var error))
            {
                result.AddError($"{name} '{text}': {error}.");
            }
            else if (value <= TimeSpan.Zero && name != "--slow-delay")
            {
                result.AddError($"{name} must be above 0.");
            }
            else if (value > SimulationOptions.MaxDuration)
            {
                result.AddError($"{name} must be at most {DurationParser.Format(SimulationOptions.MaxDuration)}.");
            }

            return value;
        },
    };

    private static double? ParseRate(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        var number = text.EndsWith("/s", StringComparison.Ordinal) ? text[..^2] : text;
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate > 0 && double.IsFinite(rate))
        {
            return rate;
        }

        result.AddError($"--rate '{text}': expected calls per second above 0, e.g. 500/s.");
        return null;
    }

    private static LatencyModel ParseLatency(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        if (LatencyModel.TryParse(text, out var model, out var error))
        {
            return model!;
        }

        result.AddError($"--latency '{text}': {error}.");
        return LatencyModel.Fixed(TimeSpan.Zero);
    }

    private static OutageWindow? ParseOutage(ArgumentResult result)
    {
        var text = result.Tokens[0].Value;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at > 0 && DurationParser.TryParse(text[..at], out var length) && DurationParser.TryParse(text[(at + 1)..], out var start) && length > TimeSpan.Zero)
        {
            return new OutageWindow(start, length);
        }

        result.AddError($"--outage '{text}': expected LENGTH@START, e.g. 30s@1m.");
        return null;
    }

    private static void Share(Option<double> option) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<double>() is not (>= 0 and <= 1))
        {
            result.AddError($"{option.Name} must be between 0 and 1.");
        }
    });

    private static void AtLeast(Option<int> option, int minimum) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int>() < minimum)
        {
            result.AddError(string.Create(CultureInfo.InvariantCulture, $"{option.Name} must be at least {minimum}."));
        }
    });
}
