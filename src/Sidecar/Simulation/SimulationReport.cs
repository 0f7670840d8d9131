using System.Globalization;
using System.Text;

namespace Sidecar.Simulation;

/// <summary>
/// The text of a simulation, in plain ASCII within 80 columns as the demo's screen: the model, then per route a table
/// with one column per policy run (the route's own, and with <c>--compare</c> no retries and the others), attempts per
/// call, the budget, and a timeline of success, amplification and the upstream's peak of requests in flight.
/// </summary>
internal static class SimulationReport
{
    private const int LabelWidth = 27;
    private const int ColumnWidth = 17;
    private const int BarWidth = 16;

    public static void Render(SimulationOptions options, IReadOnlyList<IReadOnlyList<RouteRun>> routes, TextWriter output)
    {
        var model = options.Upstream;
        output.WriteLine(Invariant($"Sidecar simulate: {Seconds(options.Duration)} of virtual time, seed {options.Seed}"));
        var slow = model.SlowRate > 0 ? Invariant($", {Share(model.SlowRate)} slow ({Seconds(model.SlowDelay)})") : string.Empty;
        var reset = model.ResetRate > 0 ? Invariant($", {Share(model.ResetRate)} reset") : string.Empty;
        output.WriteLine(Invariant($"  upstream  {Share(model.FailureRate)} {model.FailureStatus}{RetryAfter(model)}{slow}{reset}"));
        output.WriteLine(Invariant($"            latency {Latency(model.Latency)}, capacity {(model.Capacity == 0 ? "unlimited" : Count(model.Capacity) + " at once, the rest queued")}"));
        if (model.Outage is { } outage)
        {
            output.WriteLine(Invariant($"            down (connections refused) from {Seconds(outage.Start)} for {Seconds(outage.Length)}"));
        }

        output.WriteLine(options.Rate is { } rate
            ? Invariant($"  callers   open loop: {rate:0.##} calls/s (Poisson arrivals), GET")
            : Invariant($"  callers   closed loop: {options.Concurrency} callers, one GET per {Milliseconds(options.Interval)} each at most"));
        foreach (var runs in routes)
        {
            output.WriteLine();
            RenderRoute(runs, output);
        }
    }

    private static void RenderRoute(IReadOnlyList<RouteRun> runs, TextWriter output)
    {
        var first = runs[0];
        var real = TimeSpan.FromTicks(runs.Sum(r => r.Real.Ticks));
        var calls = runs.Sum(r => r.Stats.Calls);
        var simulated = first.Stats.TimelineInterval * first.Stats.Timeline.Count * runs.Count;
        var speed = real > TimeSpan.Zero ? Invariant($", {simulated / real:0}x real time") : string.Empty;
        output.WriteLine(Invariant($"route {first.Route}: {Count(calls)} calls simulated in {real.TotalSeconds:0.00} s{speed}"));
        Row(output, "policy", runs.Select(r => r.Policy == "none" ? "no retries" : r.Policy));
        Row(output, "caller success (2xx)", runs.Select(r => Ratio(r.Stats.Successes, r.Stats.Calls)));
        Row(output, "calls", runs.Select(r => Count(r.Stats.Calls)));
        Row(output, "upstream requests per call", runs.Select(r => PerCall(r.Stats)));
        Row(output, "latency p50", runs.Select(r => Latency(r.Stats.Latency.Percentile(50))));
        Row(output, "latency p99", runs.Select(r => Latency(r.Stats.Latency.Percentile(99))));
        Row(output, "retries used", runs.Select(r => Count(r.Stats.Retries)));
        Row(output, "retries refused: budget", runs.Select(r => r.Budget is null ? "-" : Count(r.Stats.BudgetRefused)));
        Row(output, "  other limits, deadline", runs.Select(r => r.Budget is null ? "-" : Count(r.Stats.OtherRefused)));
        if (runs.Any(r => r.Unfinished > 0))
        {
            Row(output, "unfinished (cut off)", runs.Select(r => Count(r.Unfinished)));
        }

        foreach (var run in runs)
        {
            output.WriteLine();
            output.WriteLine(Invariant($"  {(run.Policy == "none" ? "no retries" : "policy " + run.Policy)}: attempts per call{(run.Budget is { } budget ? "; retry budget " + budget : string.Empty)}"));
            for (var i = 0; i < run.Stats.Attempts.Count; i++)
            {
                var count = run.Stats.Attempts[i];
                var label = i == 0 ? "1 attempt" : Invariant($"{i + 1} attempts");
                output.WriteLine(Invariant($"    {label,-11} {Bar(count, run.Stats.Calls)} {Ratio(count, run.Stats.Calls),6} {count,8}"));
            }

            RenderTimeline(run, output);
        }
    }

    private static void RenderTimeline(RouteRun run, TextWriter output)
    {
        var stats = run.Stats;
        output.WriteLine(Invariant($"    timeline (every {Seconds(stats.TimelineInterval)})  success{string.Empty,-17} req/call  at upstream"));
        for (var i = 0; i < stats.Timeline.Count; i++)
        {
            var bucket = stats.Timeline[i];
            var from = TimeSpan.FromTicks(stats.TimelineInterval.Ticks * i);
            var success = bucket.Success is { } s ? Invariant($"{s * 100,5:0.0}%") : "     -";
            var bar = bucket.Success is { } share ? Bar((long)Math.Round(share * 1000), 1000) : new string(' ', BarWidth);
            var amplification = bucket.Amplification is { } a ? Invariant($"{a:0.00}") : "-";
            output.WriteLine(Invariant($"    {Clock(from),8}  {success} {bar}  {amplification,8}  {Count(bucket.PeakUpstreamInFlight),10}"));
        }
    }

    private static void Row(TextWriter output, string label, IEnumerable<string> values)
    {
        var line = new StringBuilder(Invariant($"  {label,-LabelWidth}"));
        foreach (var value in values)
        {
            line.Append(Invariant($"{value,ColumnWidth}"));
        }

        output.WriteLine(line.ToString().TrimEnd());
    }

    private static string Bar(long count, long total)
    {
        var filled = total == 0 ? 0 : (int)Math.Round((double)count * BarWidth / total, MidpointRounding.AwayFromZero);
        if (count > 0 && filled == 0)
        {
            filled = 1;
        }

        return new string('#', filled) + new string('.', BarWidth - filled);
    }

    private static string RetryAfter(UpstreamModel model) => model.RetryAfter switch
    {
        null => string.Empty,
        { MinSeconds: var low, MaxSeconds: var high } when low == high => Invariant($" + Retry-After: {low}"),
        { } range => Invariant($" + Retry-After: {range.MinSeconds}..{range.MaxSeconds}"),
    };

    private static string Latency(LatencyModel model) =>
        model.P99 <= model.Median ? Latency(model.Median) : Invariant($"p50 {Latency(model.Median)}, p99 {Latency(model.P99)} (log-normal)");

    private static string Latency(TimeSpan? value) => value switch
    {
        null => "-",
        { TotalMilliseconds: < 10 } v => Invariant($"{v.TotalMilliseconds:0.0} ms"),
        { TotalMilliseconds: < 1000 } v => Invariant($"{v.TotalMilliseconds:0} ms"),
        { } v => Invariant($"{v.TotalSeconds:0.00} s"),
    };

    private static string PerCall(RouteStats stats) => stats.Calls == 0 ? "-" : Invariant($"{(double)stats.UpstreamRequests / stats.Calls:0.00}");

    private static string Ratio(long part, long whole) => whole == 0 ? "-" : Invariant($"{(double)part / whole * 100:0.0}%");

    private static string Share(double share) => Invariant($"{share * 100:0.#}%");

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan value) => Invariant($"{value.TotalSeconds:0.#} s");

    private static string Milliseconds(TimeSpan value) => Invariant($"{value.TotalMilliseconds:0} ms");

    private static string Clock(TimeSpan value) => value.TotalHours >= 1 ? Invariant($"{(int)value.TotalHours}h{value.Minutes:00}m{value.Seconds:00}") : Invariant($"{value.Minutes}m{value.Seconds:00}s");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
