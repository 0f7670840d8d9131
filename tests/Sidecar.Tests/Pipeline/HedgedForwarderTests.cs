using System.Net;
using System.Text;
using Sidecar.Hedging;
using Sidecar.Pipeline;
using Sidecar.Retries;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Tests.Pipeline;

/// <summary>
/// <see cref="HedgedForwarder"/> (the race run through YARP's forwarder on shadow contexts) racing scripted attempts
/// on a fake clock: a hedge starts after <c>delay</c> or at once when an attempt fails, the first acceptable response wins and the others are cancelled, and the caller leaving
/// cancels everything. Each scripted upstream answers only when the test says so, and the real
/// <see cref="RetryResponseTransform"/> decides each response.
/// </summary>
public sealed class HedgedForwarderTests : IDisposable
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1", "http://127.0.0.1:2"] }
        policies:
          h:
            max_attempts: 2
            retry_on: { status: [503] }
            budget: { enabled: false }
            hedge: { delay: 50ms, max_extra: 1 }
          broke:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { ratio: 0, min_per_second: 0 }
            hedge: { delay: 50ms, max_extra: 2 }
          single:
            max_attempts: 3
            retry_on: { status: [503] }
            budget: { enabled: false }
            max_concurrent_retries: 1
            hedge: { delay: 50ms, max_extra: 2 }
        routes:
          - { name: h, match: { path: "/h/{**rest}" }, cluster: app, policy: h }
          - { name: broke, match: { path: "/b/{**rest}" }, cluster: app, policy: broke }
          - { name: single, match: { path: "/s/{**rest}" }, cluster: app, policy: single }
        """;

    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(50);

    private static readonly TimeSpan Safety = TimeSpan.FromSeconds(30);

    private readonly RetryHarness _harness = new(Yaml);
    private readonly ScriptedForwarder _forwarder;
    private readonly HedgedForwarder _hedger;
    private readonly ScriptedUpstream _first = new("http://d1/", "one");
    private readonly ScriptedUpstream _second = new("http://d2/", "two");
    private readonly DefaultHttpContext _context = new();
    private readonly ProxyFeature _feature;

    public HedgedForwarderTests()
    {
        _harness.Random.Value = 0;
        _forwarder = new ScriptedForwarder(new RetryResponseTransform(_harness.Decider), _first, _second);
        _hedger = new HedgedForwarder(_forwarder, new HedgeRace(_harness.Decider, _harness.Time, _harness.Random, _harness.Metrics.Metrics, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance));
        _context.Request.Method = HttpMethods.Get;
        _context.Response.Body = new MemoryStream();
        _feature = new ProxyFeature([Destination("d1", _first), Destination("d2", _second)]);
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task ForwardAsync_FirstAttemptSlow_HedgeStartsAfterTheDelayAndTheFasterWins()
    {
        var race = Forward(CancellationToken.None);
        await _first.Started.Task.WaitAsync(Safety);
        _harness.Time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.False(_second.Started.Task.IsCompleted);

        _harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await _second.Started.Task.WaitAsync(Safety);
        _second.Answer.SetResult(HttpStatusCode.OK);
        var (outcome, attempts) = await race.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal(200, _context.Response.StatusCode);
        Assert.Equal("two", Body());
        Assert.Equal("2", _context.Response.Headers["x-sidecar-attempts"]);
        Assert.True(_first.Cancelled);
        Assert.Contains("sidecar_retries_total{reason=\"hedge\",route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardAsync_FirstAttemptFails_HedgeStartsWithoutWaitingTheDelay()
    {
        _first.Answer.SetResult(HttpStatusCode.ServiceUnavailable);
        _second.Answer.SetResult(HttpStatusCode.OK);

        var (outcome, attempts) = await Forward(CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal("two", Body());
    }

    [Fact]
    public async Task ForwardAsync_FirstAttemptAnswersBeforeTheDelay_NoHedgeStarts()
    {
        _first.Answer.SetResult(HttpStatusCode.OK);

        var (outcome, attempts) = await Forward(CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.Success, outcome);
        Assert.Equal(1, attempts);
        Assert.Equal("one", Body());
        Assert.False(_second.Started.Task.IsCompleted);
    }

    [Fact]
    public async Task ForwardAsync_EveryAttemptRetryable_LastOneCommitsAsExhausted()
    {
        _first.Answer.SetResult(HttpStatusCode.ServiceUnavailable);
        _second.Answer.SetResult(HttpStatusCode.ServiceUnavailable);

        var (outcome, attempts) = await Forward(CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.Exhausted, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal(503, _context.Response.StatusCode);
        Assert.Equal("two", Body());
    }

    [Fact]
    public async Task ForwardAsync_CallerLeaves_CancelsEveryAttempt()
    {
        using var caller = new CancellationTokenSource();
        var race = Forward(caller.Token);
        await _first.Started.Task.WaitAsync(Safety);

        await caller.CancelAsync();
        var (outcome, attempts) = await race.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.ClientCancelled, outcome);
        Assert.Equal(1, attempts);
        Assert.True(_first.Cancelled);
        Assert.False(_second.Started.Task.IsCompleted);
    }

    [Fact]
    public async Task ForwardAsync_UpstreamSaysDoNotRetry_OneAttemptAndItsResponseReturned()
    {
        _first.Headers.Add(("x-sidecar-retry-pushback-ms", "-1"));
        _first.Headers.Add(("Retry-After", "30"));
        _first.Answer.SetResult(HttpStatusCode.ServiceUnavailable);

        var (outcome, attempts) = await Forward(CancellationToken.None).WaitAsync(Safety);

        Assert.Equal(RequestOutcome.NotRetryable, outcome);
        Assert.Equal(1, attempts);
        Assert.Equal(503, _context.Response.StatusCode);
        Assert.Equal("one", Body());
        Assert.False(_second.Started.Task.IsCompleted);
        Assert.Contains("sidecar_retries_skipped_total{reason=\"pushback\",route=\"h\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardAsync_LoneRetryableResponseRefusedByTheBudget_ThatResponseReturned()
    {
        _first.Answer.SetResult(HttpStatusCode.ServiceUnavailable);

        var (outcome, attempts) = await Forward(CancellationToken.None, "broke").WaitAsync(Safety);

        Assert.Equal(RequestOutcome.BudgetExhausted, outcome);
        Assert.Equal(1, attempts);
        Assert.Equal(503, _context.Response.StatusCode);
        Assert.Equal("one", Body());
        Assert.False(_second.Started.Task.IsCompleted);
    }

    [Fact]
    public async Task ForwardAsync_BudgetRefusesTheHedge_AskedOnceAndNoLaterDelayAsksAgain()
    {
        var race = Forward(CancellationToken.None, "broke");
        await _first.Started.Task.WaitAsync(Safety);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await SkippedAsync("broke", "budget");

        _harness.Time.Advance(Delay * 4);
        _first.Answer.SetResult(HttpStatusCode.OK);
        var (outcome, attempts) = await race.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.Success, outcome);
        Assert.Equal(1, attempts);
        Assert.Equal(1, _harness.Time.ArmedCount(Delay));
        var metrics = _harness.Metrics.Render();
        Assert.Contains("sidecar_retries_skipped_total{reason=\"budget\",route=\"broke\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_retry_budget_exhausted_total{cluster=\"app\"} 1", metrics, StringComparison.Ordinal);
        Assert.DoesNotContain("sidecar_retries_total{reason=\"hedge\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForwardAsync_ConcurrentRetriesCapTaken_NoHedgeStarts()
    {
        var other = _harness.NewRequest("single");
        Assert.True(other.TryTakeRetrySlot());

        var race = Forward(CancellationToken.None, "single");
        await _first.Started.Task.WaitAsync(Safety);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await SkippedAsync("single", "concurrency");
        _first.Answer.SetResult(HttpStatusCode.OK);
        var (outcome, attempts) = await race.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.Success, outcome);
        Assert.Equal(1, attempts);
        Assert.False(_second.Started.Task.IsCompleted);
        Assert.Equal(1, _harness.Time.ArmedCount(Delay));
        Assert.Equal(1, _harness.Route("single").Retry!.RetrySlots.Current);
    }

    [Fact]
    public async Task ForwardAsync_HedgeTakesTheRequestsRetrySlotOnce_AndTheRequestGivesItBack()
    {
        var state = _harness.NewRequest("single");
        var race = Forward(CancellationToken.None, state);
        await _first.Started.Task.WaitAsync(Safety);
        await _harness.Time.AdvanceWhenArmedAsync(Delay);
        await _second.Started.Task.WaitAsync(Safety);

        Assert.True(state.HoldsRetrySlot);
        Assert.Equal(1, _harness.Route("single").Retry!.RetrySlots.Current);
        _second.Answer.SetResult(HttpStatusCode.OK);
        Assert.Equal((RequestOutcome.SuccessAfterRetry, 2), await race.WaitAsync(Safety));
        state.ReleaseRetrySlot();
        Assert.Equal(0, _harness.Route("single").Retry!.RetrySlots.Current);
    }

    [Fact]
    public async Task ForwardAsync_LoneRetryableResponseWithRetryAfter_NextAttemptWaitsForIt()
    {
        _first.Headers.Add(("Retry-After", "1"));
        _first.Answer.SetResult(HttpStatusCode.ServiceUnavailable);
        var race = Forward(CancellationToken.None);
        await _harness.Time.ArmedAsync(TimeSpan.FromSeconds(1)).WaitAsync(Safety);

        _harness.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(_second.Started.Task.IsCompleted);
        _harness.Time.Advance(TimeSpan.FromMilliseconds(1));
        await _second.Started.Task.WaitAsync(Safety);
        _second.Answer.SetResult(HttpStatusCode.OK);
        var (outcome, attempts) = await race.WaitAsync(Safety);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, outcome);
        Assert.Equal(2, attempts);
        Assert.Equal("two", Body());
        Assert.Equal(0, _harness.Route("h").Retry!.Cluster.WaitingRetries.Current);
    }

    private Task<(RequestOutcome Outcome, int Attempts)> Forward(CancellationToken requestAborted, string route = "h") =>
        Forward(requestAborted, _harness.NewRequest(route));

    private Task<(RequestOutcome Outcome, int Attempts)> Forward(CancellationToken requestAborted, RetryState state)
    {
        _context.Features.Set<IReverseProxyFeature>(_feature);
        return _hedger.ForwardAsync(_context, _feature, state, body: null, requestAborted);
    }

    /// <summary>Waits until the route's retry log has counted a skip for <paramref name="reason"/> (the race loop decides on its own task).</summary>
    private async Task SkippedAsync(string route, string reason)
    {
        var deadline = DateTime.UtcNow + Safety;
        while (!_harness.Metrics.Render().Contains($"sidecar_retries_skipped_total{{reason=\"{reason}\",route=\"{route}\"}} 1", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No {reason} skip was counted.");
            await Task.Yield();
        }
    }

    private string Body() => Encoding.UTF8.GetString(((MemoryStream)_context.Response.Body).ToArray());

    private static DestinationState Destination(string id, ScriptedUpstream upstream) =>
        new(id, new DestinationModel(new DestinationConfig { Address = upstream.Address }));

    /// <summary>One destination: reports when an attempt reaches it, answers when the test completes <see cref="Answer"/>.</summary>
    private sealed class ScriptedUpstream(string address, string body)
    {
        public string Address { get; } = address;

        public string Body { get; } = body;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<HttpStatusCode> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Cancelled { get; set; }

        public List<(string Name, string Value)> Headers { get; } = [];
    }

    /// <summary>Stands in for YARP's forwarder: runs the response transform as YARP does, then streams the body unless suppressed.</summary>
    private sealed class ScriptedForwarder(RetryResponseTransform transform, params ScriptedUpstream[] upstreams) : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
            SendAsync(context, destinationPrefix, httpClient, requestConfig, transformer, CancellationToken.None);

        public async ValueTask<ForwarderError> SendAsync(HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient, ForwarderRequestConfig requestConfig, HttpTransformer transformer, CancellationToken cancellationToken)
        {
            var upstream = Array.Find(upstreams, u => u.Address == destinationPrefix)!;
            upstream.Started.TrySetResult();
            HttpStatusCode status;
            try
            {
                status = await upstream.Answer.Task.WaitAsync(context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstream.Cancelled = true;
                return ForwarderError.RequestCanceled;
            }

            using var response = new HttpResponseMessage(status) { Content = new StringContent(upstream.Body) };
            foreach (var (name, value) in upstream.Headers)
            {
                response.Headers.TryAddWithoutValidation(name, value);
            }

            // Status first, as YARP does before its response transforms: the transform may make this attempt the
            // winner, and the hedger then relays the status at once (set after, it once relayed the default 200).
            context.Response.StatusCode = (int)status;
            var decision = new ResponseTransformContext { HttpContext = context, ProxyResponse = response, CancellationToken = context.RequestAborted };
            await transform.ApplyAsync(decision);
            if (!decision.SuppressResponseBody)
            {
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(upstream.Body));
            }

            return ForwarderError.None;
        }
    }

    private sealed class ProxyFeature : IReverseProxyFeature
    {
        public ProxyFeature(IReadOnlyList<DestinationState> destinations)
        {
            var cluster = new ClusterModel(new ClusterConfig { ClusterId = "app" }, new HttpMessageInvoker(new SocketsHttpHandler()));
            Cluster = cluster;
            Route = new RouteModel(new RouteConfig { RouteId = "h", ClusterId = "app" }, new ClusterState("app", cluster), HttpTransformer.Empty);
            AllDestinations = destinations;
            AvailableDestinations = destinations;
        }

        public RouteModel Route { get; }

        public ClusterModel Cluster { get; }

        public IReadOnlyList<DestinationState> AllDestinations { get; }

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; }

        public DestinationState? ProxiedDestination { get; set; }
    }
}
