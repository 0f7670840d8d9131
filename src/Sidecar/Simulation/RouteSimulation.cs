using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Sidecar.Configuration;
using Sidecar.Hedging;
using Sidecar.Logging;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Retries;
using Sidecar.Routing;
using Sidecar.Telemetry;

namespace Sidecar.Simulation;

/// <summary>
/// Simulates one route of a config under one policy:
/// 1. Builds the proxy's retry core from the config as the host does (config store and route table, budgets and
///    limiters, <see cref="RetryDecider"/>, <see cref="AttemptLoop"/>), on a <see cref="VirtualClock"/> and seeded jitter.
/// 2. Starts the callers (closed or open loop) on a <see cref="SimulationLoop"/>; each call runs the route's attempts
///    through the real <see cref="AttemptLoop"/> (or, on a hedged policy, the real <see cref="HedgeRace"/>) with a
///    <see cref="SimulatedAttemptSender"/> against a <see cref="SimulatedUpstream"/>, or, without a policy, sends once.
/// 3. Runs until the last call started before the end of <see cref="SimulationOptions.Duration"/> has ended, and
///    returns what the callers saw (<see cref="RouteStats"/>).
/// </summary>
internal sealed class RouteSimulation
{
    /// <summary>How long past the end calls in flight may take before the run is cut off.</summary>
    private static readonly TimeSpan DrainLimit = TimeSpan.FromMinutes(10);

    private readonly SimulationOptions _options;
    private readonly VirtualClock _clock = new();
    private readonly SimulationLoop _loop;
    private readonly Random _arrivals;
    private readonly SimulatedUpstream _upstream;
    private readonly RouteStats _stats;
    private readonly RoutePlan _route;
    private readonly AttemptLoop _attemptLoop;
    private readonly HedgeRace _hedgeRace;
    private readonly RetryDecider _decider;
    private readonly DestinationCircuit? _circuit;
    private readonly long _end;
    private long _inFlight;
    private Exception? _failure;

    private RouteSimulation(SidecarConfig config, string routeName, SimulationOptions options, IMeterFactory meters)
    {
        _options = options;
        _loop = new SimulationLoop(_clock);
        _arrivals = new Random(options.Seed);
        _upstream = new SimulatedUpstream(options.Upstream, _clock, new Random(unchecked(options.Seed * 31 + 7)));
        _end = options.Duration.Ticks;

        var metrics = new SidecarMetrics(meters);
        var breakers = new CircuitBreakerRegistry(_clock);
        var log = new RetryLog(NullLogger<RetryLog>.Instance, breakers, _clock);
        var store = new SidecarConfigStore(config, new ClusterRetryStateRegistry(_clock), breakers, log, metrics);
        _decider = new RetryDecider(_clock, new SeededRandomSource(unchecked(options.Seed * 17 + 3)), metrics, new BackoffWaitLimiter(store), new DrainSignal());
        _attemptLoop = new AttemptLoop(_decider, metrics, _clock, NullLoggerFactory.Instance);
        _hedgeRace = new HedgeRace(_decider, _clock, new SeededRandomSource(unchecked(options.Seed * 13 + 5)), metrics, NullLoggerFactory.Instance);
        _route = store.RouteTable.Find(routeName) ?? throw new ArgumentException($"No route '{routeName}'.", nameof(routeName));
        // The simulated upstream is one destination: the breaker's circuit for it.
        _circuit = _route.Breaker is { } breaker ? new DestinationCircuit(breaker.Options, _clock) : null;
        _stats = new RouteStats(_route.Retry?.Options.MaxAttempts ?? 1, options.Duration, options.TimelineInterval);
    }

    /// <summary>Runs route <paramref name="routeName"/> of <paramref name="config"/> under <paramref name="options"/>.</summary>
    public static RouteRun Run(SidecarConfig config, string routeName, SimulationOptions options)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var simulation = new RouteSimulation(config, routeName, options, services.GetRequiredService<IMeterFactory>());
        var started = Stopwatch.GetTimestamp();
        simulation._loop.Run(simulation.Start, simulation._end + DrainLimit.Ticks);
        if (simulation._failure is { } failure)
        {
            throw new InvalidOperationException("A simulated call failed: " + failure.Message, failure);
        }

        var plan = simulation._route.Retry;
        var budget = plan?.Options.Budget is { Enabled: true } b
            ? string.Create(CultureInfo.InvariantCulture, $"{b.Ratio * 100:0.#}% of requests, at least {b.MinPerSecond}/s")
            : plan is null ? null : "disabled";
        return new RouteRun(routeName, plan?.Name ?? "none", plan?.Options.MaxAttempts ?? 1, simulation._stats, simulation._inFlight, budget, Stopwatch.GetElapsedTime(started));
    }

    private void Start()
    {
        ScheduleSample(_options.TimelineInterval.Ticks);
        if (_options.Rate is { } rate)
        {
            _clock.Schedule(NextArrival(0, rate), static s => ((RouteSimulation)s!).Arrive(), this);
            return;
        }

        for (var caller = 0; caller < _options.Concurrency; caller++)
        {
            _ = CallerAsync();
        }
    }

    /// <summary>An open-loop arrival: a call starts, and the next arrival is scheduled.</summary>
    private void Arrive()
    {
        _ = CallAsync();
        var next = NextArrival(_clock.Now, _options.Rate!.Value);
        if (next < _end)
        {
            _clock.Schedule(next, static s => ((RouteSimulation)s!).Arrive(), this);
        }
    }

    private long NextArrival(long now, double rate) =>
        now + (long)(-Math.Log(1 - _arrivals.NextDouble()) / rate * TimeSpan.TicksPerSecond);

    /// <summary>A closed-loop caller, as the demo's: a call, then the rest of its interval, until the end.</summary>
    private async Task CallerAsync()
    {
        var interval = _options.Interval.Ticks;
        var next = _clock.Now;
        while (_clock.Now < _end)
        {
            await CallAsync();
            next += interval;
            if (next > _clock.Now)
            {
                await Task.Delay(TimeSpan.FromTicks(next - _clock.Now), _clock);
            }
            else
            {
                next = _clock.Now;
            }
        }
    }

    private async Task CallAsync()
    {
        var start = _clock.Now;
        _inFlight++;
        try
        {
            var sender = new SimulatedAttemptSender(_upstream, _decider, _circuit, _loop);
            RetrySkipReason? skipped = null;
            if (_route.Retry is not { } plan)
            {
                await sender.SendOnceAsync();
            }
            else
            {
                // As the proxy's dispatch: the deadline, a GET's idempotency, the budget's request count.
                var options = plan.Options;
                var deadline = AttemptTiming.Deadline(_clock, start, options.Timeout, callerTimeout: null);
                var state = new RetryState(_route, plan, options.MaxAttempts, start, deadline, Idempotency.IsIdempotent(HttpMethods.Get, default, options.Methods));
                plan.Cluster.Budget.RecordRequest();
                try
                {
                    if (options.Hedge is not null && state.IsIdempotent && _route.Breaker is null)
                    {
                        // As the proxy's dispatch: an idempotent request on a hedged policy races its attempts.
                        var (_, attempts) = await _hedgeRace.RunAsync(state, sender, CancellationToken.None);
                        state.BeginAttempt(attempts);
                    }
                    else
                    {
                        await _attemptLoop.RunAsync(state, sender, CancellationToken.None);
                    }
                }
                finally
                {
                    state.ReleaseRetrySlot();
                }

                skipped = state.SkipReason;
            }

            _stats.Record(_clock.Now, sender.CallerStatus, sender.Sent, TimeSpan.FromTicks(_clock.Now - start), skipped);
        }
        catch (Exception ex)
        {
            _failure ??= ex;
        }
        finally
        {
            _inFlight--;
        }
    }

    private void ScheduleSample(long at)
    {
        if (at <= _end)
        {
            _clock.Schedule(at, static s => ((RouteSimulation)s!).Sample(), this);
        }
    }

    /// <summary>At the end of each timeline interval: the upstream's peak of requests in flight during it.</summary>
    private void Sample()
    {
        _stats.RecordUpstreamPeak(_clock.Now - 1, _upstream.TakePeak());
        ScheduleSample(_clock.Now + _options.TimelineInterval.Ticks);
    }
}
