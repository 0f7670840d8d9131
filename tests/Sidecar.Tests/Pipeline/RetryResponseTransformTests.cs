using System.Net;
using Sidecar.Pipeline;
using Sidecar.Retries;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Tests.Pipeline;

/// <summary>
/// <see cref="RetryResponseTransform"/>: the one point where a response is either suppressed for a retry or committed
/// to the caller, and what it records on the request's <see cref="RetryState"/> either way.
/// </summary>
public sealed class RetryResponseTransformTests : IDisposable
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            budget: { enabled: false }
            retry_on: { status: [503, 429], headers: [{ name: x-busy, values: ["yes"] }] }
            retry_after: { honor: true, max: 10s }
          until:
            max_attempts: 2
            backoff: { algorithm: constant, base: 100ms, jitter: none }
            budget: { enabled: false }
            retry_until: [{ status: [200] }]
        routes:
          - { name: r, match: { path: "/r/{**rest}" }, cluster: app, policy: p }
          - { name: until, match: { path: "/u/{**rest}" }, cluster: app, policy: until }
        """;

    private readonly RetryHarness _harness = new(Yaml);
    private readonly RetryResponseTransform _transform;

    public RetryResponseTransformTests() =>
        _transform = new RetryResponseTransform(_harness.Decider);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task ApplyAsync_RequestWithoutPolicy_LeavesTheResponseAlone()
    {
        var context = Context(null, HttpStatusCode.ServiceUnavailable);

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.False(context.HttpContext.Response.Headers.ContainsKey("x-sidecar-attempts"));
    }

    [Fact]
    public async Task ApplyAsync_FirstAttemptSucceeds_CommitsSuccessAndDisarmsTheTimer()
    {
        var state = _harness.NewRequest("r");
        using var timer = new CancellationTokenSource(TimeSpan.FromSeconds(1), _harness.Time);
        state.Arm(timer, long.MaxValue);
        var context = Context(state, HttpStatusCode.OK);

        await _transform.ApplyAsync(context);
        _harness.Time.Advance(TimeSpan.FromSeconds(2));

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(AttemptVerdict.Commit, state.Verdict);
        Assert.Equal(RequestOutcome.Success, state.Outcome);
        Assert.Equal(200, state.ResponseStatus);
        Assert.Equal("1", context.HttpContext.Response.Headers["x-sidecar-attempts"]);
        Assert.False(timer.IsCancellationRequested);
    }

    [Fact]
    public async Task ApplyAsync_LaterAttemptSucceeds_CommitsSuccessAfterRetry()
    {
        var state = _harness.NewRequest("r");
        state.BeginAttempt(2);
        var context = Context(state, HttpStatusCode.OK);

        await _transform.ApplyAsync(context);

        Assert.Equal(RequestOutcome.SuccessAfterRetry, state.Outcome);
        Assert.Equal("2", context.HttpContext.Response.Headers["x-sidecar-attempts"]);
    }

    [Fact]
    public async Task ApplyAsync_5xxOutsideRetryOn_CommitsNotRetryable()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.InternalServerError);

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(RequestOutcome.NotRetryable, state.Outcome);
    }

    [Fact]
    public async Task ApplyAsync_RetryableStatus_SuppressesTheBodyAndSchedulesARetry()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.ServiceUnavailable);

        await _transform.ApplyAsync(context);

        Assert.True(context.SuppressResponseBody);
        Assert.Equal(AttemptVerdict.Retry, state.Verdict);
        Assert.Equal("503", state.RetryReason);
        Assert.Equal(TimeSpan.FromMilliseconds(100), state.RetryDelay);
    }

    [Fact]
    public async Task ApplyAsync_RetryableStatusOnTheLastAttempt_CommitsExhausted()
    {
        var state = _harness.NewRequest("r");
        state.BeginAttempt(3);
        var context = Context(state, HttpStatusCode.ServiceUnavailable);

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(RequestOutcome.Exhausted, state.Outcome);
    }

    [Fact]
    public async Task ApplyAsync_MatchingRetryHeader_RetriesWithReasonHeader()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.OK, ("x-busy", " YES "));

        await _transform.ApplyAsync(context);

        Assert.True(context.SuppressResponseBody);
        Assert.Equal(RetryReason.Header, state.RetryReason);
    }

    [Fact]
    public async Task ApplyAsync_RetryAfterOn429_WaitsTheServerDelayAndCountsIt()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.TooManyRequests, ("Retry-After", "2"));

        await _transform.ApplyAsync(context);

        Assert.Equal(TimeSpan.FromSeconds(2), state.RetryDelay);
        Assert.Contains("sidecar_retry_after_honored_total{route=\"r\"} 1", _harness.Metrics.Render(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ApplyAsync_RetryAfterBeyondMax_IsCappedByRetryAfterMax()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.ServiceUnavailable, ("Retry-After", "3600"));

        await _transform.ApplyAsync(context);

        Assert.Equal(TimeSpan.FromSeconds(10), state.RetryDelay);
    }

    [Fact]
    public async Task ApplyAsync_NegativePushback_CommitsNotRetryable()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.ServiceUnavailable, ("x-sidecar-retry-pushback-ms", "-1"));

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(RequestOutcome.NotRetryable, state.Outcome);
    }

    [Fact]
    public async Task ApplyAsync_RetryUntilFailsOnTheLastAttempt_CommitsWithTheValidationHeader()
    {
        var state = _harness.NewRequest("until");
        state.BeginAttempt(2);
        var context = Context(state, HttpStatusCode.Accepted);

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(RequestOutcome.Exhausted, state.Outcome);
        Assert.Equal("failed", context.HttpContext.Response.Headers["x-sidecar-validation"]);
    }

    [Fact]
    public async Task ApplyAsync_RetryUntilFails_RetriesAsValidation()
    {
        var state = _harness.NewRequest("until");
        var context = Context(state, HttpStatusCode.Accepted);

        await _transform.ApplyAsync(context);

        Assert.True(context.SuppressResponseBody);
        Assert.Equal(RetryReason.Validation, state.RetryReason);
    }

    [Fact]
    public async Task ApplyAsync_SwitchingProtocols_AlwaysCommits()
    {
        var state = _harness.NewRequest("until");
        var context = Context(state, HttpStatusCode.SwitchingProtocols);

        await _transform.ApplyAsync(context);

        Assert.False(context.SuppressResponseBody);
        Assert.Equal(AttemptVerdict.Commit, state.Verdict);
    }

    [Fact]
    public async Task ApplyAsync_ResponseAlreadySuppressed_DecidesNothing()
    {
        var state = _harness.NewRequest("r");
        var context = Context(state, HttpStatusCode.ServiceUnavailable);
        context.SuppressResponseBody = true;

        await _transform.ApplyAsync(context);

        Assert.Equal(AttemptVerdict.Pending, state.Verdict);
    }

    internal static ResponseTransformContext Context(RetryState? state, HttpStatusCode status, params (string Name, string Value)[] headers)
    {
        var httpContext = new DefaultHttpContext();
        if (state is not null)
        {
            httpContext.Features.Set(state);
        }

        var response = new HttpResponseMessage(status) { Content = new ByteArrayContent([]) };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return new ResponseTransformContext { HttpContext = httpContext, ProxyResponse = response };
    }
}
