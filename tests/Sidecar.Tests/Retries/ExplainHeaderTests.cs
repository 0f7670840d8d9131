using Sidecar.Configuration;
using Sidecar.Retries;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Retries;

public sealed class ExplainHeaderTests : IDisposable
{
    private const string Yaml = """
        clusters:
          app: { destinations: ["http://127.0.0.1:1"] }
        policies:
          p: { max_attempts: 3, allow_explain: true }
        routes:
          - { name: r, match: { path: "/r/{**rest}" }, cluster: app, policy: p }
        """;

    private readonly RetryHarness _harness = new(Yaml);

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void Format_CommittedAttemptStillStreaming_ListsItFromTheStateWithItsTimeToHeaders()
    {
        // The header is set as the response starts: the committed attempt has not ended, so it is not on the trail yet.
        var state = _harness.NewRequest("r");
        var trail = new AttemptTrail(explain: true, AccessLogMode.Off);
        state.Trail = trail;
        trail.Started(_harness.Time.GetTimestamp());
        trail.Completed(new AttemptRecord(1, "http://10.0.0.1:8080", 503, AttemptResult.Status5xx, TimeSpan.FromMilliseconds(12)));
        trail.Retrying(TimeSpan.FromMilliseconds(40), "503");
        state.BeginAttempt(2);
        trail.Started(_harness.Time.GetTimestamp());
        state.RecordResponse(200, -1);
        state.Commit(RequestOutcome.SuccessAfterRetry);
        _harness.Time.Advance(TimeSpan.FromMilliseconds(9));

        var header = ExplainHeader.Format(state, trail, "http://user:secret@10.0.0.2:8080/base", _harness.Time.GetTimestamp(), _harness.Time);

        Assert.Equal("attempt=1 dest=10.0.0.1:8080 status=503 dur=12ms wait=40ms reason=503; attempt=2 dest=10.0.0.2:8080 status=200 dur=9ms; decision=success_after_retry", header);
    }

    [Fact]
    public void Format_LoopAnsweredItself_DecisionIsItsAnswerAndNoAttemptInFlight()
    {
        var state = _harness.NewRequest("r");
        var trail = new AttemptTrail(explain: true, AccessLogMode.Off);
        trail.Completed(new AttemptRecord(1, "http://10.0.0.1:8080", 0, AttemptResult.ConnectFailure, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(50), "connect_failure"));
        state.BeginAttempt(2);
        trail.Decision = RequestOutcome.CircuitOpen;

        var header = ExplainHeader.Format(state, trail, null, _harness.Time.GetTimestamp(), _harness.Time);

        Assert.Equal("attempt=1 dest=10.0.0.1:8080 error=connect_failure dur=1ms wait=50ms reason=connect_failure; decision=circuit_open", header);
    }

    [Fact]
    public void Format_AnsweredOutsideTheLoop_NoDecisionMadeUp()
    {
        var state = _harness.NewRequest("r");
        var trail = new AttemptTrail(explain: true, AccessLogMode.Off);

        Assert.Equal("decision=none", ExplainHeader.Format(state, trail, null, _harness.Time.GetTimestamp(), _harness.Time));
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData("true", true)]
    [InlineData("0", false)]
    [InlineData("yes", false)]
    public void IsRequested_HeaderValue_OnlyOneOrTrue(string value, bool expected)
    {
        var headers = new HeaderDictionary { ["x-sidecar-explain"] = value };

        Assert.Equal(expected, ExplainHeader.IsRequested(headers));
    }

    [Theory]
    [InlineData("http://10.0.0.1:8080", "10.0.0.1:8080")]
    [InlineData("https://user:pw@orders.svc:8443/base?x=1", "orders.svc:8443")]
    [InlineData("http://[::1]:80/", "[::1]:80")]
    public void DestinationLabel_Address_IsItsAuthorityWithoutCredentials(string address, string expected)
    {
        Assert.Equal(expected, DestinationLabel.Of(address).ToString());
    }
}
