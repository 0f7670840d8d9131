using System.Diagnostics;
using Sidecar.Retries;
using Sidecar.Telemetry;
using static Sidecar.TestSupport.ScriptedAttemptSender;

namespace Sidecar.Tests.Retries;

/// <summary>
/// What each attempt's span says about what came next: the retry's reason and wait, or why the request stopped.
/// Listeners on the "Sidecar" source are process-wide: this class shares the collection of the tests that expect none.
/// </summary>
[Collection(nameof(SidecarActivitySource))]
public sealed class AttemptLoopTracingTests : IDisposable
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            retry_on: { status: [503], errors: [connect-failure] }
            budget: { enabled: false }
          broke:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { ratio: 0, min_per_second: 0 }
        routes:
          - { name: r, match: { path: "/r/{**rest}" }, cluster: app, policy: p }
          - { name: broke, match: { path: "/b/{**rest}" }, cluster: app, policy: broke }
        """;

    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(100);

    private readonly RetryHarness _harness = new(Yaml);
    private readonly AttemptLoop _loop;
    private readonly List<Activity> _stopped = [];
    private readonly ActivityListener _listener;

    public AttemptLoopTracingTests()
    {
        _loop = new AttemptLoop(_harness.Decider, _harness.Metrics.Metrics, _harness.Time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SidecarActivitySource.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_stopped)
                {
                    _stopped.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _harness.Dispose();
    }

    [Fact]
    public async Task RunAsync_RetriedTwice_EachAttemptSpanSaysTheNextWaitAndReasonAndTheLastWhyItStopped()
    {
        var sender = new ScriptedAttemptSender(_harness.Decider, _harness.Time, new Respond(503), new Fail(TransportErrorKind.ConnectFailure), new Respond(200));

        var attempts = await RunAsync("r", sender, async () =>
        {
            await _harness.Time.AdvanceWhenArmedAsync(Backoff);
            await _harness.Time.AdvanceWhenArmedAsync(Backoff, count: 2);
        });

        Assert.Equal(["503", "connect_failure", null], attempts.Select(a => a.GetTagItem("sidecar.retry.reason")));
        Assert.Equal([100L, 100L, null], attempts.Select(a => a.GetTagItem("sidecar.retry.wait_ms")));
        Assert.Equal([null, null, "success_after_retry"], attempts.Select(a => a.GetTagItem("sidecar.stop_reason")));
    }

    [Fact]
    public async Task RunAsync_RetryRefusedByTheBudget_AttemptSpanStoppedOnBudget()
    {
        var sender = new ScriptedAttemptSender(_harness.Decider, _harness.Time, new Respond(503));

        var attempt = Assert.Single(await RunAsync("broke", sender, () => Task.CompletedTask));

        Assert.Equal("budget", attempt.GetTagItem("sidecar.stop_reason"));
        Assert.Null(attempt.GetTagItem("sidecar.retry.reason"));
    }

    /// <summary>Runs the request under a request span of its own and returns its attempt spans, in order.</summary>
    private async Task<List<Activity>> RunAsync(string route, ScriptedAttemptSender sender, Func<Task> driveClock)
    {
        ActivityTraceId trace;
        using (var request = SidecarActivitySource.StartRequest(route, "GET", new Microsoft.AspNetCore.Http.HeaderDictionary()))
        {
            trace = request!.TraceId;
            var run = _loop.RunAsync(_harness.NewRequest(route), sender, CancellationToken.None);
            await driveClock();
            await run.WaitAsync(TimeSpan.FromSeconds(30));
        }

        lock (_stopped)
        {
            return _stopped.Where(a => a.TraceId == trace && a.OperationName == SidecarActivitySource.AttemptActivityName).OrderBy(a => a.GetTagItem("sidecar.attempt")).ToList();
        }
    }
}
