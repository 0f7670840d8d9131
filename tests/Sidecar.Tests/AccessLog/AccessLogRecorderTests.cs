using System.Text.Json;
using Sidecar.AccessLog;
using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Telemetry;
using static Sidecar.TestSupport.ScriptedAttemptSender;

namespace Sidecar.Tests.AccessLog;

/// <summary>
/// Which requests get an access log line and what it says: the real attempt loop runs on a fake clock behind a
/// scripted upstream (<see cref="ScriptedAttemptSender"/>), and the line is read from the writer's queue.
/// </summary>
public sealed class AccessLogRecorderTests : IDisposable
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
          - { name: plain, match: { path: "/p/{**rest}" }, cluster: app }
        """;

    private static readonly TimeSpan Backoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private readonly RetryHarness _harness = new(Yaml);
    private readonly AttemptLoop _loop;
    private readonly AccessLogWriter _writer;
    private readonly AccessLogRecorder _recorder;

    public AccessLogRecorderTests()
    {
        _loop = new AttemptLoop(_harness.Decider, _harness.Metrics.Metrics, _harness.Time, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        _writer = new AccessLogWriter(Stream.Null, _harness.Metrics.Metrics);
        _recorder = new AccessLogRecorder(_harness.Store, _writer, _harness.Random, _harness.Time);
    }

    public void Dispose()
    {
        _writer.Dispose();
        _harness.Dispose();
    }

    [Fact]
    public async Task Complete_RetriedTwiceWithFailures_OneLineWithEachAttemptItsWaitAndReason()
    {
        Logs(AccessLogMode.Failures);
        var context = Context("GET", "/r/orders/7", "?secret=1");
        context.Request.Headers.TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

        var state = await RunAsync(context, "r", new Respond(503), new Fail(TransportErrorKind.ConnectFailure), new Respond(200));

        using var line = JsonDocument.Parse(Assert.Single(Lines()));
        var root = line.RootElement;
        Assert.Equal("r", root.GetProperty("route").GetString());
        Assert.Equal("app", root.GetProperty("cluster").GetString());
        Assert.Equal("GET", root.GetProperty("method").GetString());
        Assert.Equal("/r/orders/7", root.GetProperty("path").GetString());
        Assert.Equal(200, root.GetProperty("status").GetInt32());
        Assert.Equal(200, root.GetProperty("duration_ms").GetDouble());
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", root.GetProperty("trace_id").GetString());
        Assert.Equal("success_after_retry", root.GetProperty("decision").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("stop_reason").ValueKind);
        Assert.Equal(3, root.GetProperty("attempt_count").GetInt32());
        Assert.Equal(
            """[{"attempt":1,"destination":"10.0.0.1:8080","status":503,"duration_ms":0,"wait_ms":100,"retry_reason":"503"},{"attempt":2,"destination":"10.0.0.2:8080","error":"connect_failure","duration_ms":0,"wait_ms":100,"retry_reason":"connect_failure"},{"attempt":3,"destination":"10.0.0.3:8080","status":200,"duration_ms":0,"stop":"success_after_retry"}]""",
            root.GetProperty("attempts").GetRawText());
        Assert.Equal(3, state.Attempt);
    }

    [Fact]
    public async Task Complete_RetryRefusedByTheBudget_LineSaysBudgetExhaustedStoppedOnBudget()
    {
        Logs(AccessLogMode.Failures);
        var context = Context("GET", "/b/x");
        context.Response.StatusCode = 503;

        await RunAsync(context, "broke", new Respond(503));

        using var line = JsonDocument.Parse(Assert.Single(Lines()));
        var root = line.RootElement;
        Assert.Equal("budget_exhausted", root.GetProperty("decision").GetString());
        Assert.Equal("budget", root.GetProperty("stop_reason").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("trace_id").ValueKind);
        Assert.Equal(
            """[{"attempt":1,"destination":"10.0.0.1:8080","status":503,"duration_ms":0,"stop":"budget"}]""",
            root.GetProperty("attempts").GetRawText());
    }

    [Fact]
    public async Task Complete_FirstAttemptSucceedsWithFailures_NoLine()
    {
        Logs(AccessLogMode.Failures);

        await RunAsync(Context("GET", "/r/x"), "r", new Respond(200));

        Assert.Empty(Lines());
    }

    [Fact]
    public async Task Complete_FirstAttemptSucceedsWithAll_OneLine()
    {
        Logs(AccessLogMode.All);

        await RunAsync(Context("GET", "/r/x"), "r", new Respond(200));

        using var line = JsonDocument.Parse(Assert.Single(Lines()));
        Assert.Equal("success", line.RootElement.GetProperty("decision").GetString());
    }

    [Fact]
    public async Task Begin_SampleZero_NoTrailAndNoLine()
    {
        Logs(AccessLogMode.All, sample: 0);
        var context = Context("GET", "/r/x");

        var state = await RunAsync(context, "r", new Respond(503), new Respond(200));
        _recorder.Complete(Context("GET", "/p/x"), _harness.Route("plain"), RequestOutcome.NotRetryable, 1, TimeSpan.Zero, null, single: null);

        Assert.Null(state.Trail);
        Assert.Empty(Lines());
    }

    [Fact]
    public async Task Begin_Off_NoTrail()
    {
        Logs(AccessLogMode.Off);

        var state = await RunAsync(Context("GET", "/r/x"), "r", new Respond(503), new Respond(200));
        _recorder.Complete(Context("GET", "/p/x"), _harness.Route("plain"), RequestOutcome.NotRetryable, 1, TimeSpan.Zero, null, single: null);

        Assert.Null(state.Trail);
        Assert.Empty(Lines());
    }

    [Fact]
    public void BeginAndComplete_OffWithoutExplain_AllocateNothing()
    {
        Logs(AccessLogMode.Off);
        var context = Context("GET", "/r/x");
        var plain = _harness.Route("plain");
        var state = _harness.NewRequest("r");
        var single = new AttemptRecord(1, "http://127.0.0.1:1", 200, AttemptResult.Status2xx, TimeSpan.FromMilliseconds(1));
        void Run()
        {
            _recorder.Begin(context, state, explain: false);
            _recorder.Complete(context, state, RequestOutcome.Success, TimeSpan.FromMilliseconds(1), null);
            _recorder.Complete(context, plain, RequestOutcome.Success, 1, TimeSpan.FromMilliseconds(1), null, single);
        }

        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Null(state.Trail);
    }

    [Fact]
    public void Begin_OffButExplainAsked_TrailKeptForTheHeaderOnly()
    {
        Logs(AccessLogMode.Off);
        var state = _harness.NewRequest("r");

        _recorder.Begin(Context("GET", "/r/x"), state, explain: true);

        Assert.NotNull(state.Trail);
        Assert.Equal(AccessLogMode.Off, state.Trail.Log);
    }

    [Fact]
    public void Complete_RouteWithoutPolicy_LineHasItsOneAttempt()
    {
        Logs(AccessLogMode.All);
        var context = Context("POST", "/p/x");
        context.Response.StatusCode = 502;

        _recorder.Complete(context, _harness.Route("plain"), RequestOutcome.NotRetryable, 1, TimeSpan.FromMilliseconds(3), null, new AttemptRecord(1, "http://127.0.0.1:1", 0, AttemptResult.Reset, TimeSpan.FromMilliseconds(3)));

        using var line = JsonDocument.Parse(Assert.Single(Lines()));
        Assert.Equal(
            """[{"attempt":1,"destination":"127.0.0.1:1","error":"reset","duration_ms":3,"stop":"not_retryable"}]""",
            line.RootElement.GetProperty("attempts").GetRawText());
    }

    [Fact]
    public void Complete_CallerLeftBeforeAnyResponse_StatusZero()
    {
        Logs(AccessLogMode.Failures);

        _recorder.Complete(Context("GET", "/p/x"), _harness.Route("plain"), RequestOutcome.ClientCancelled, 1, TimeSpan.FromMilliseconds(5), null, new AttemptRecord(1, "http://127.0.0.1:1", 0, AttemptResult.Cancelled, TimeSpan.FromMilliseconds(5)));

        using var line = JsonDocument.Parse(Assert.Single(Lines()));
        Assert.Equal(0, line.RootElement.GetProperty("status").GetInt32());
        Assert.Equal("client_cancelled", line.RootElement.GetProperty("decision").GetString());
    }

    [Fact]
    public void TryWrite_QueueFull_LineDroppedAndCounted()
    {
        for (var i = 0; i < AccessLogWriter.Capacity; i++)
        {
            Assert.True(_writer.TryWrite("{}"u8));
        }

        Assert.False(_writer.TryWrite("{}"u8));
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_access_log_dropped_total{} 1", metrics, StringComparison.Ordinal);
    }

    private void Logs(AccessLogMode mode, double sample = 1) =>
        _harness.Store.Apply(_harness.Config with { Logs = new LogsOptions { Access = mode, AccessSample = sample } });

    private static DefaultHttpContext Context(string method, string path, string query = "")
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        return context;
    }

    /// <summary>The request through Begin, the loop and Complete, as the dispatch middleware runs them.</summary>
    private async Task<RetryState> RunAsync(HttpContext context, string route, params Step[] steps)
    {
        var sender = new ScriptedAttemptSender(_harness.Decider, _harness.Time, steps);
        var state = _harness.NewRequest(route);
        var start = _harness.Time.GetTimestamp();
        _recorder.Begin(context, state, explain: false);
        var run = _loop.RunAsync(state, sender, CancellationToken.None);
        for (var retry = 1; retry < steps.Length; retry++)
        {
            await _harness.Time.AdvanceWhenArmedAsync(Backoff, count: retry);
        }

        var outcome = await run.WaitAsync(Safety);
        _recorder.Complete(context, state, outcome, _harness.Time.GetElapsedTime(start), null);
        return state;
    }

    private List<string> Lines()
    {
        var lines = new List<string>();
        while (_writer.Queue.TryRead(out var line))
        {
            lines.Add(System.Text.Encoding.UTF8.GetString(line.Buffer, 0, line.Length).TrimEnd('\n'));
        }

        return lines;
    }
}
