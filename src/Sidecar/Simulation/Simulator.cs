using System.Text.Json;
using Sidecar.Configuration;

namespace Sidecar.Simulation;

/// <summary>
/// <c>sidecar simulate</c> once the config is loaded and the flags parsed:
/// 1. Picks the routes (all, or those named) and, with <c>--compare</c>, the policies each is run under: its own, no
///    retries, then each policy named.
/// 2. Runs each pair in a world of its own (<see cref="RouteSimulation"/>: its own clock, upstream, budget and seed),
///    so one run's load never reaches another's upstream.
/// 3. Prints the screen (<see cref="SimulationReport"/>), or with <c>--json</c> the route summaries
///    (<see cref="RouteSummary"/>), keyed by route name, and with <c>--compare</c> by <c>route:policy</c> after the first.
/// A policy with <c>hedge</c> runs the proxy's hedging race (<see cref="Hedging.HedgeRace"/>) on the same simulated upstream.
/// </summary>
internal static class Simulator
{
    /// <summary>The label of the run without retries.</summary>
    public const string NoRetries = "none";

    public static int Run(SidecarConfig config, IReadOnlyList<string> routeNames, IReadOnlyList<string>? compare, SimulationOptions options, bool json, TextWriter output, TextWriter error)
    {
        var routes = routeNames.Count == 0 ? config.Routes.Select(r => r.Name).ToList() : routeNames.Distinct(StringComparer.Ordinal).ToList();
        var errors = routes.Where(r => !config.Routes.Any(route => route.Name == r)).Select(r => $"sidecar simulate: no route '{r}' in {config.SourcePath}.")
            .Concat((compare ?? []).Where(p => p != NoRetries && !config.Policies.ContainsKey(p)).Select(p => $"sidecar simulate: no policy '{p}' in {config.SourcePath} (--compare)."))
            .ToList();
        if (errors.Count > 0)
        {
            foreach (var line in errors)
            {
                error.WriteLine(line);
            }

            return 1;
        }

        var results = new List<IReadOnlyList<RouteRun>>();
        foreach (var name in routes)
        {
            var route = config.Routes.First(r => r.Name == name);
            var runs = new List<RouteRun>();
            foreach (var policy in Policies(route, compare))
            {
                var variant = ReferenceEquals(policy, route.Policy) ? config : With(config, name, policy);
                runs.Add(RouteSimulation.Run(variant, name, options));
            }

            if (runs.Count > 0)
            {
                results.Add(runs);
            }
        }

        if (results.Count == 0)
        {
            error.WriteLine("sidecar simulate: nothing to simulate.");
            return 1;
        }

        if (json)
        {
            var summaries = new Dictionary<string, RouteSummary>(StringComparer.Ordinal);
            foreach (var runs in results)
            {
                for (var i = 0; i < runs.Count; i++)
                {
                    summaries[i == 0 ? runs[i].Route : runs[i].Route + ":" + runs[i].Policy] = RouteSummary.From(runs[i].Stats);
                }
            }

            output.WriteLine(JsonSerializer.Serialize(summaries, RouteSummaryJsonContext.Default.DictionaryStringRouteSummary));
        }
        else
        {
            SimulationReport.Render(options, results, output);
        }

        return 0;
    }

    /// <summary>The route's policy (null for none), then with <c>--compare</c> no retries and the policies named, each once.</summary>
    private static IEnumerable<string?> Policies(Configuration.RouteOptions route, IReadOnlyList<string>? compare)
    {
        yield return route.Policy;
        if (compare is null)
        {
            yield break;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal) { route.Policy ?? NoRetries };
        foreach (var policy in compare.Prepend(NoRetries))
        {
            if (seen.Add(policy))
            {
                yield return policy == NoRetries ? null : policy;
            }
        }
    }

    private static SidecarConfig With(SidecarConfig config, string route, string? policy) =>
        config with { Routes = config.Routes.Select(r => r.Name == route ? r with { Policy = policy } : r).ToList() };
}
