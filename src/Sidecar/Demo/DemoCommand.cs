using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging.Console;
using Sidecar.Configuration;
using Sidecar.Hosting;

namespace Sidecar.Demo;

/// <summary>
/// <c>sidecar demo</c>: the first thing a newcomer runs, needing only the .NET SDK.
/// 1. Start the built-in flaky upstream and Sidecar in front of it, both on loopback ephemeral ports.
/// 2. Drive closed-loop traffic for <c>--duration</c> through two routes: one with a retry policy, one without.
/// 3. Print one screen comparing them (success rates, attempts, latency, budget), stop everything, exit 0.
/// Ctrl+C ends the traffic early; the report then covers what was answered until then.
/// </summary>
internal static class DemoCommand
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan WarmUpCountBound = TimeSpan.FromSeconds(2);

    public static Command Create()
    {
        var duration = new Option<TimeSpan>("--duration", "-d")
        {
            Description = "How long to send traffic, e.g. 10s, 2s or 1m; from 1s to 60s. Default 10s.",
            DefaultValueFactory = _ => new DemoOptions().Duration,
            CustomParser = ParseDuration,
        };
        var concurrency = new Option<int>("--concurrency")
        {
            Description = "Concurrent callers, each alternating between the two routes. Default 8.",
            DefaultValueFactory = _ => new DemoOptions().Concurrency,
        };
        concurrency.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > DemoOptions.MaxConcurrency)
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--concurrency must be between 1 and {DemoOptions.MaxConcurrency}."));
            }
        });
        var failureRate = new Option<double>("--failure-rate")
        {
            Description = "Share of upstream answers that are 503 with Retry-After: 0, from 0 to 0.9. Default 0.3.",
            DefaultValueFactory = _ => new DemoOptions().FailureRate,
        };
        failureRate.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (>= 0 and <= 0.9))
            {
                result.AddError("--failure-rate must be between 0 and 0.9.");
            }
        });

        var json = new Option<bool>("--json")
        {
            Description = "Print the two routes' results as JSON (the shape `sidecar simulate --json` prints) instead of the screen.",
        };

        var command = new Command(
            "demo",
            "Start Sidecar in front of a built-in flaky upstream, send traffic through a route with retries and one without, " +
            "and print what the callers saw against what the upstream saw. Takes about --duration; exits 0.");
        command.Options.Add(duration);
        command.Options.Add(concurrency);
        command.Options.Add(failureRate);
        command.Options.Add(json);
        command.SetAction((parse, cancellationToken) =>
        {
            var options = new DemoOptions
            {
                Duration = parse.GetValue(duration),
                Concurrency = parse.GetValue(concurrency),
                FailureRate = parse.GetValue(failureRate),
                Json = parse.GetValue(json),
            };
            var configuration = parse.InvocationConfiguration;
            var interactive = ReferenceEquals(configuration.Error, Console.Error) && !Console.IsErrorRedirected;
            return RunUntilCtrlCAsync(options, configuration.Output, configuration.Error, interactive, cancellationToken);
        });
        return command;
    }

    /// <summary>As <see cref="RunAsync"/>, with Ctrl+C (and SIGTERM) ending the traffic early instead of the process, as <c>run</c> does.</summary>
    public static async Task<int> RunUntilCtrlCAsync(DemoOptions options, TextWriter output, TextWriter progress, bool interactiveProgress, CancellationToken cancellationToken)
    {
        using var ctrlC = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        return await RunAsync(options, output, progress, interactiveProgress, ctrlC.Token);

        void Handle(PosixSignalContext context)
        {
            // Keep the process alive: the demo stops its traffic, prints what it has and exits 0.
            context.Cancel = true;
            ctrlC.Cancel();
        }
    }

    /// <summary>Runs the demo and writes the report to <paramref name="output"/>; progress goes to <paramref name="progress"/>.</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output, TextWriter progress, bool interactiveProgress, CancellationToken cancellationToken)
    {
        var timeProvider = TimeProvider.System;
        FlakyUpstream? upstream = null;
        SidecarHost? sidecar = null;
        HttpClient? client = null;
        try
        {
            upstream = await FlakyUpstream.StartAsync(options, cancellationToken);
            var parsed = SidecarConfigLoader.Parse(DemoPolicy.Yaml(upstream.Address), "<demo>");
            if (!parsed.Succeeded)
            {
                // The demo's own YAML is fixed; this only happens if the config contract changed under it.
                foreach (var error in parsed.Errors)
                {
                    await progress.WriteLineAsync(error.ToString());
                }

                return 1;
            }

            sidecar = await SidecarHost.StartAsync(parsed.Config! with { Listen = DemoPolicy.Listen }, QuietHost(timeProvider), cancellationToken);
            client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false })
            {
                BaseAddress = sidecar.ProxyAddress,
                Timeout = TimeSpan.FromSeconds(10),
            };

            var traffic = new DemoTraffic(client, options, timeProvider);
            var bar = new DemoProgress(progress, interactiveProgress, options.Duration);
            using var counted = new DemoRequestCounter(sidecar.Services.GetRequiredService<IMeterFactory>());
            await traffic.WarmUpAsync(cancellationToken);
            // The warm-up is not reported: wait (briefly: a warm-up request that never reached Sidecar is never
            // counted) until Sidecar has counted all of it, then count from 0.
            await Task.WhenAny(counted.WhenTotalReachesAsync(traffic.WarmUpRequests), Task.Delay(WarmUpCountBound, timeProvider, cancellationToken));
            counted.Reset();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            stop.CancelAfter(options.Duration);
            var start = timeProvider.GetTimestamp();
            var running = traffic.RunAsync(stop.Token, cancellationToken);
            while (!running.IsCompleted)
            {
                await Task.WhenAny(running, Task.Delay(ProgressInterval, timeProvider, CancellationToken.None));
                bar.Update(Min(timeProvider.GetElapsedTime(start), options.Duration), traffic.Completed);
            }

            await running;
            var elapsed = Min(timeProvider.GetElapsedTime(start), options.Duration);
            bar.Complete(elapsed, traffic.Completed);

            // Stopped, Sidecar has counted every request it answered: its counts are final.
            await sidecar.DisposeAsync();
            sidecar = null;
            var samples = traffic.Samples;
            var (withAnswered, withFailed) = counted.For(withRetries: true);
            var (withoutAnswered, withoutFailed) = counted.For(withRetries: false);
            var result = new DemoResult(
                options,
                elapsed,
                DemoColumn.From(samples.Where(s => s.WithRetries), upstream.WithRetries.Requests, upstream.WithRetries.Successes, DemoPolicy.MaxAttempts)
                    with { MetricAnswered = withAnswered, MetricFailed = withFailed },
                DemoColumn.From(samples.Where(s => !s.WithRetries), upstream.WithoutRetries.Requests, upstream.WithoutRetries.Successes, DemoPolicy.MaxAttempts)
                    with { MetricAnswered = withoutAnswered, MetricFailed = withoutFailed },
                Interrupted: cancellationToken.IsCancellationRequested);
            if (options.Json)
            {
                await output.WriteLineAsync(DemoReport.Json(result));
            }
            else
            {
                await output.WriteLineAsync();
                DemoReport.Render(result, output);
            }

            await output.FlushAsync(CancellationToken.None);
            return 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C before traffic started: nothing to report.
            return 0;
        }
        catch (Logging.LoggingConfigurationException ex)
        {
            // A bad Logging__LogLevel__* in the environment: the same errors `run` prints.
            foreach (var error in ex.Errors)
            {
                await progress.WriteLineAsync($"sidecar: {error}.");
            }

            return 1;
        }
        finally
        {
            client?.Dispose();
            if (sidecar is not null)
            {
                await sidecar.DisposeAsync();
            }

            if (upstream is not null)
            {
                await upstream.DisposeAsync();
            }
        }
    }

    /// <summary>Parses a duration written as in the config (<c>10s</c>, <c>500ms</c>, <c>1m</c>) and checks it is within 1s..60s.</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, [NotNullWhen(false)] out string? error)
    {
        if (!DurationParser.TryParse(text, out duration, out var parseError))
        {
            error = $"--duration '{text}': {parseError}.";
            return false;
        }

        if (duration < DemoOptions.MinDuration || duration > DemoOptions.MaxDuration)
        {
            error = $"--duration must be between {DurationParser.Format(DemoOptions.MinDuration)} and {DurationParser.Format(DemoOptions.MaxDuration)} (got {text}).";
            return false;
        }

        error = null;
        return true;
    }

    private static TimeSpan ParseDuration(ArgumentResult result)
    {
        if (TryParseDuration(result.Tokens[0].Value, out var duration, out var error))
        {
            return duration;
        }

        result.AddError(error);
        return default;
    }

    private static SidecarHostOptions QuietHost(TimeProvider timeProvider) => new()
    {
        // The report is the demo's output: Sidecar's start-up lines and retry summaries (a warning when requests
        // failed, which the demo makes happen), YARP's and ASP.NET Core's logs would break up the progress bar.
        LogLevel = LogLevel.Error,
        TimeProvider = timeProvider,
        ConfigureLogging = logging =>
        {
            logging.AddFilter("Yarp", LogLevel.Error);
            logging.AddFilter("Microsoft", LogLevel.Error);
            // Whatever still logs goes to stderr with the progress, so stdout holds the report alone.
            logging.Services.Configure<ConsoleLoggerOptions>(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        },
    };

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
