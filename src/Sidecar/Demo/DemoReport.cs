using System.Globalization;
using System.Text;
using System.Text.Json;
using Sidecar.Simulation;

namespace Sidecar.Demo;

/// <summary>
/// The demo's one screen, in plain ASCII and at most 80 columns so it reads the same in a terminal and a CI log:
/// the setup, a table of "with retries" against "without retries", attempts per request as bars, and the retry budget.
/// </summary>
internal static class DemoReport
{
    public const int BarWidth = 16;
    private const int LabelWidth = 28;
    private const int FirstColumnWidth = 14;
    private const int SecondColumnWidth = 17;

    public static string Render(DemoResult result)
    {
        var text = new StringBuilder();
        using (var writer = new StringWriter(text, CultureInfo.InvariantCulture))
        {
            Render(result, writer);
        }

        return text.ToString();
    }

    public static void Render(DemoResult result, TextWriter output)
    {
        var options = result.Options;
        var with = result.WithRetries;
        var without = result.WithoutRetries;

        output.WriteLine(Invariant($"Sidecar demo: {Seconds(result.Elapsed)} of GET traffic, {options.Concurrency} callers alternating between two routes"));
        if (result.Interrupted)
        {
            output.WriteLine("  (stopped early by Ctrl+C: these are the requests answered until then)");
        }

        output.WriteLine(Invariant($"  upstream                built in: {Share(options.FailureRate)} 503 + Retry-After: 0, {Share(options.SlowRate)} slow ({Seconds(options.SlowDelay)})"));
        output.WriteLine(Invariant($"  route {DemoPolicy.WithRetriesPrefix,-17} policy: {DemoPolicy.MaxAttempts} attempts, per-try timeout {DemoPolicy.PerTryTimeout},"));
        output.WriteLine(Invariant($"  {string.Empty,-23} backoff {DemoPolicy.Backoff}"));
        output.WriteLine(Invariant($"  route {DemoPolicy.WithoutRetriesPrefix,-17} no policy: forwarded once"));
        output.WriteLine();

        Row(output, string.Empty, "with retries", "without retries");
        Row(output, "caller success (2xx)", Ratio(with.Successes, with.Requests), Ratio(without.Successes, without.Requests));
        Row(output, "caller requests", Count(with.Requests), Count(without.Requests));
        Row(output, "5xx (sidecar_requests_total)", Ratio(with.MetricFailed, with.MetricAnswered), Ratio(without.MetricFailed, without.MetricAnswered));
        Row(output, "upstream success (2xx)", Ratio(with.UpstreamSuccesses, with.UpstreamRequests), Ratio(without.UpstreamSuccesses, without.UpstreamRequests));
        Row(output, "upstream requests", Count(with.UpstreamRequests), Count(without.UpstreamRequests));
        Row(output, "upstream requests per call", PerCall(with), PerCall(without));
        Row(output, "latency p50", Latency(with.P50), Latency(without.P50));
        Row(output, "latency p99", Latency(with.P99), Latency(without.P99));
        output.WriteLine();

        output.WriteLine("  attempts per request");
        output.WriteLine(Invariant($"  {string.Empty,-14}{"with retries",-32}without retries"));
        for (var i = 0; i < Math.Max(with.Attempts.Count, without.Attempts.Count); i++)
        {
            var label = i == 0 ? "1 attempt" : Invariant($"{i + 1} attempts");
            output.WriteLine(Invariant($"    {label,-10}  {Bucket(with, i)}   {Bucket(without, i)}").TrimEnd());
        }

        output.WriteLine();
        var perRequest = with.Requests == 0 ? "-" : Invariant($"{(double)with.Retries / with.Requests:0.00}");
        output.WriteLine(Invariant($"  retry budget: {Share(DemoPolicy.BudgetRatio)} of upstream requests, at least {DemoPolicy.BudgetMinPerSecond}/s."));
        output.WriteLine(Invariant($"  Used {with.Retries} retries ({perRequest} per request);"));
        output.WriteLine(with.RefusedRetries == 0
            ? "  no request was refused a retry."
            : Invariant($"  {with.RefusedRetries} requests got a 503 back early: the budget refused their retry."));
        output.WriteLine();
        output.WriteLine(Invariant($"  Retries: caller success {Ratio(without.Successes, without.Requests)} -> {Ratio(with.Successes, with.Requests)} for {PerCall(with)} upstream requests per call."));
    }

    /// <summary>
    /// The two routes as JSON, keyed by route name, in the shape of <c>sidecar simulate --json</c>
    /// (<see cref="RouteSummary"/>), so a real run and a simulated one can be set side by side.
    /// </summary>
    public static string Json(DemoResult result)
    {
        var summaries = new Dictionary<string, RouteSummary>(StringComparer.Ordinal)
        {
            [DemoPolicy.WithRetriesRoute] = Summary(result.WithRetries),
            // No policy, no budget: the column's count of 503s answered before the attempt limit is no refusal there.
            [DemoPolicy.WithoutRetriesRoute] = Summary(result.WithoutRetries) with { BudgetRefused = 0 },
        };
        return JsonSerializer.Serialize(summaries, RouteSummaryJsonContext.Default.DictionaryStringRouteSummary);
    }

    /// <summary>A bar of <see cref="BarWidth"/> characters ('#' for the share, '.' for the rest), the share, the count.</summary>
    public static string Bar(int count, int total)
    {
        var filled = total == 0 ? 0 : (int)Math.Round((double)count * BarWidth / total, MidpointRounding.AwayFromZero);
        if (count > 0 && filled == 0)
        {
            // A bucket that happened must be visible.
            filled = 1;
        }

        return new string('#', filled) + new string('.', BarWidth - filled);
    }

    public static string Latency(TimeSpan? value) => value switch
    {
        null => "-",
        { TotalMilliseconds: < 10 } v => Invariant($"{v.TotalMilliseconds:0.0} ms"),
        { TotalMilliseconds: < 1000 } v => Invariant($"{v.TotalMilliseconds:0} ms"),
        { } v => Invariant($"{v.TotalSeconds:0.00} s"),
    };

    public static string Ratio(int part, int whole) => whole == 0 ? "-" : Percent((double)part / whole);

    private static RouteSummary Summary(DemoColumn column) =>
        RouteSummary.From(column.Requests, column.Successes, column.UpstreamRequests, column.P50, column.P99, column.Attempts.Select(a => (long)a).ToList(), column.RefusedRetries);

    private static string Bucket(DemoColumn column, int index)
    {
        var count = index < column.Attempts.Count ? column.Attempts[index] : 0;
        return Invariant($"{Bar(count, column.Requests)} {Ratio(count, column.Requests),6} {count,5}");
    }

    private static void Row(TextWriter output, string label, string first, string second) =>
        output.WriteLine(Invariant($"  {label,-LabelWidth}{first,FirstColumnWidth}{second,SecondColumnWidth}"));

    private static string PerCall(DemoColumn column) =>
        column.Requests == 0 ? "-" : Invariant($"{(double)column.UpstreamRequests / column.Requests:0.00}");

    private static string Count(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Percent(double share) => Invariant($"{share * 100:0.0}%");

    private static string Share(double share) => Invariant($"{share * 100:0.#}%");

    private static string Seconds(TimeSpan value) => Invariant($"{value.TotalSeconds:0.0} s");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
