using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Circuits;
using Yarp.ReverseProxy.Model;

namespace Sidecar.Tests.Circuits;

/// <summary>
/// <see cref="ClusterCircuitBreaker"/> on a fake clock: closed destinations pass untouched, open ones are taken out of
/// load balancing, and with none closed a single half-open probe goes out once a break has elapsed.
/// </summary>
public sealed class ClusterCircuitBreakerTests
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureRatio = 0.5,
        MinimumRequests = 2,
        Window = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(5),
    };

    private readonly FakeTimeProvider _time = new();
    private readonly ClusterCircuitBreaker _breaker;
    private readonly DestinationState _d1 = new("d1");
    private readonly DestinationState _d2 = new("d2");
    private readonly DestinationState[] _all;

    public ClusterCircuitBreakerTests()
    {
        _breaker = new ClusterCircuitBreaker("app", Options, _time);
        _all = [_d1, _d2];
    }

    [Fact]
    public void Allowed_EveryCircuitClosed_ReturnsTheCandidatesThemselves()
    {
        _breaker.Record(_d1, failure: true, probe: null);

        Assert.Same(_all, _breaker.Allowed(_all, out var probe));
        Assert.Null(probe);
        Assert.True(_breaker.IsClosed("d1"));
        Assert.True(_breaker.IsClosed("never-seen"));
    }

    [Fact]
    public void Record_FailureRatioReached_OpensOnlyThatDestination()
    {
        Assert.False(_breaker.Record(_d1, failure: true, probe: null));
        Assert.True(_breaker.Record(_d1, failure: true, probe: null));

        Assert.Equal(["d2"], Ids(_breaker.Allowed(_all, out var probe)));
        Assert.Null(probe);
        Assert.False(_breaker.IsClosed("d1"));
    }

    [Fact]
    public void Allowed_EveryCircuitOpen_NothingUntilABreakElapsesThenOneProbe()
    {
        Open(_d1);
        _time.Advance(TimeSpan.FromSeconds(2));
        Open(_d2);

        Assert.Empty(Ids(_breaker.Allowed(_all, out _)));
        _time.Advance(TimeSpan.FromSeconds(3));

        Assert.Equal(["d1"], Ids(_breaker.Allowed(_all, out var probe)));
        Assert.Same(_d1, probe);
        Assert.Empty(Ids(_breaker.Allowed(_all, out var second)));
        Assert.Null(second);
    }

    [Fact]
    public void Record_ProbeSucceeds_ClosesTheCircuitAndEveryDestinationPassesAgain()
    {
        Open(_d1);
        Open(_d2);
        _time.Advance(Options.BreakDuration);
        _breaker.Allowed(_all, out var probe);

        Assert.False(_breaker.Record(_d1, failure: false, probe));

        Assert.True(_breaker.IsClosed("d1"));
        Assert.Equal(["d1"], Ids(_breaker.Allowed(_all, out _)));
    }

    [Fact]
    public void Record_ProbeFails_OpensForAnotherBreak()
    {
        Open(_d1);
        Open(_d2);
        _time.Advance(Options.BreakDuration);
        _breaker.Allowed(_all, out var probe);

        Assert.True(_breaker.Record(_d1, failure: true, probe));

        _time.Advance(Options.BreakDuration - TimeSpan.FromMilliseconds(1));
        Assert.Equal(["d2"], Ids(_breaker.Allowed(_all, out var next)));
        Assert.Same(_d2, next);
    }

    [Fact]
    public void Record_ProbeGrantedButRequestWentElsewhere_ReleasesTheProbe()
    {
        Open(_d1);
        Open(_d2);
        _time.Advance(Options.BreakDuration);
        _breaker.Allowed([_d1], out var probe);
        Assert.Same(_d1, probe);

        _breaker.Record(_d2, failure: true, probe);

        Assert.Equal(["d1"], Ids(_breaker.Allowed([_d1], out var again)));
        Assert.Same(_d1, again);
    }

    [Fact]
    public void TryNarrow_OneCircuitOpen_LoadBalancerSeesOnlyTheOther()
    {
        Open(_d1);
        var feature = new Feature(_all);

        Assert.True(_breaker.TryNarrow(feature, out var probe));

        Assert.Equal(["d2"], Ids(feature.AvailableDestinations));
        Assert.Null(probe);
    }

    [Fact]
    public void TryNarrow_EveryCircuitOpen_FalseAndDestinationsUntouched()
    {
        Open(_d1);
        Open(_d2);
        var feature = new Feature(_all);

        Assert.False(_breaker.TryNarrow(feature, out _));

        Assert.Same(_all, feature.AvailableDestinations);
    }

    [Fact]
    public void TryNarrow_NoDestinationAtAll_TrueSoYarpAnswersItself()
    {
        var feature = new Feature([]);

        Assert.True(_breaker.TryNarrow(feature, out var probe));

        Assert.Null(probe);
    }

    [Fact]
    public void RecordAttempt_CallerLeft_CountsNothingAndGivesTheProbeBack()
    {
        Open(_d1);
        Open(_d2);
        _time.Advance(Options.BreakDuration);
        _breaker.Allowed([_d1], out var probe);

        Assert.False(_breaker.RecordAttempt(_d1, failure: true, callerLeft: true, probe));

        Assert.Equal(["d1"], Ids(_breaker.Allowed([_d1], out var again)));
        Assert.Same(_d1, again);
    }

    [Fact]
    public void RecordAttempt_NoDestinationPicked_GivesTheProbeBack()
    {
        Open(_d1);
        _time.Advance(Options.BreakDuration);
        _breaker.Allowed([_d1], out var probe);

        Assert.False(_breaker.RecordAttempt(null, failure: true, callerLeft: false, probe));

        Assert.Equal(["d1"], Ids(_breaker.Allowed([_d1], out _)));
    }

    [Fact]
    public void RecordAttempt_Failures_OpenTheCircuit()
    {
        Assert.False(_breaker.RecordAttempt(_d1, failure: true, callerLeft: false, probe: null));
        Assert.True(_breaker.RecordAttempt(_d1, failure: true, callerLeft: false, probe: null));

        Assert.False(_breaker.IsClosed("d1"));
    }

    // A DestinationState is itself a one-item list of destinations, so the assertions compare ids, not states.
    private static string[] Ids(IReadOnlyList<DestinationState> destinations)
    {
        var ids = new string[destinations.Count];
        for (var i = 0; i < ids.Length; i++)
        {
            ids[i] = destinations[i].DestinationId;
        }

        return ids;
    }

    private void Open(DestinationState destination)
    {
        _breaker.Record(destination, failure: true, probe: null);
        _breaker.Record(destination, failure: true, probe: null);
        Assert.False(_breaker.IsClosed(destination.DestinationId));
    }

    private sealed class Feature(IReadOnlyList<DestinationState> destinations) : IReverseProxyFeature
    {
        public RouteModel Route => throw new NotSupportedException();

        public ClusterModel Cluster => throw new NotSupportedException();

        public IReadOnlyList<DestinationState> AllDestinations { get; } = destinations;

        public IReadOnlyList<DestinationState> AvailableDestinations { get; set; } = destinations;

        public DestinationState? ProxiedDestination { get; set; }
    }
}
