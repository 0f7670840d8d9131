using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Logging;
using Sidecar.Overload;
using Sidecar.Policies;
using Sidecar.Circuits;
using Sidecar.Routing;
using Sidecar.Tests.Telemetry;

namespace Sidecar.Tests.Overload;

public sealed class OverloadManagerTests : IDisposable
{
    private static readonly OverloadOptions Thresholds = new()
    {
        StopBuffering = 0.6,
        RejectRequests = 0.75,
        StopAccepting = 0.9,
        RecoveryMargin = 0.1,
    };

    private readonly FakeTimeProvider _time = new();
    private readonly SettablePressure _pressure = new();
    private readonly MetricsTestContext _metrics = new();
    private readonly RequestAdmission _admission;
    private readonly OverloadManager _manager;

    public OverloadManagerTests()
    {
        var config = SidecarConfigLoader.Parse(
            """
            clusters:
              c: { destinations: [http://127.0.0.1:1] }
            routes:
              - { name: r, cluster: c }
            limits:
              max_concurrent_requests: 2
              overload: { check_interval: 250ms }
            """,
            "test.yaml").Config!;
        var breakers = new CircuitBreakerRegistry(_time);
        var store = new SidecarConfigStore(config, new ClusterRetryStateRegistry(_time), breakers, new RetryLog(NullLogger<RetryLog>.Instance, breakers, _time));
        _admission = new RequestAdmission(store, TimeProvider.System);
        _manager = new OverloadManager(_pressure, new HeapTrimmer(_admission, new TrimmableMemoryPoolFactory(), _time), _admission, store, _metrics.Metrics, _time, NullLogger<OverloadManager>.Instance);
    }

    [Theory]
    [InlineData(0.0, nameof(OverloadState.Normal))]
    [InlineData(0.59, nameof(OverloadState.Normal))]
    [InlineData(0.6, nameof(OverloadState.StopBuffering))]
    [InlineData(0.8, nameof(OverloadState.RejectRequests))]
    [InlineData(0.95, nameof(OverloadState.StopAccepting))]
    public void Next_FromNormal_JumpsToTheHighestThresholdReached(double pressure, string expected) =>
        Assert.Equal(Enum.Parse<OverloadState>(expected), OverloadManager.Next(OverloadState.Normal, pressure, Thresholds));

    [Theory]
    [InlineData(0.85, nameof(OverloadState.StopAccepting))]
    [InlineData(0.8, nameof(OverloadState.StopAccepting))]
    [InlineData(0.79, nameof(OverloadState.RejectRequests))]
    [InlineData(0.65, nameof(OverloadState.RejectRequests))]
    [InlineData(0.64, nameof(OverloadState.StopBuffering))]
    [InlineData(0.5, nameof(OverloadState.StopBuffering))]
    [InlineData(0.49, nameof(OverloadState.Normal))]
    public void Next_FromStopAccepting_FallsOnlyRecoveryMarginBelowEachThreshold(double pressure, string expected) =>
        Assert.Equal(Enum.Parse<OverloadState>(expected), OverloadManager.Next(OverloadState.StopAccepting, pressure, Thresholds));

    [Fact]
    public void Next_ThresholdsCloserThanTheMargin_NeverRisesWhileFalling()
    {
        var close = Thresholds with { StopBuffering = 0.6, RejectRequests = 0.62, StopAccepting = 0.64 };

        Assert.Equal(OverloadState.StopBuffering, OverloadManager.Next(OverloadState.StopBuffering, 0.58, close));
    }

    [Fact]
    public void Timer_PressureRisesAndFalls_StateFollowsWithHysteresisAndGaugeAndEvents()
    {
        var changes = new List<OverloadState>();
        _manager.StateChanged += changes.Add;
        Start();

        _pressure.Ratio = 0.8;
        Assert.Equal(OverloadState.Normal, _manager.State);
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(OverloadState.RejectRequests, _manager.State);
        Assert.Matches(StateSample(2), _metrics.Render());

        _pressure.Ratio = 0.7;
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(OverloadState.RejectRequests, _manager.State);

        _pressure.Ratio = 0.6;
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(OverloadState.StopBuffering, _manager.State);

        _pressure.Ratio = 0.1;
        _time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(OverloadState.Normal, _manager.State);
        Assert.Equal([OverloadState.RejectRequests, OverloadState.StopBuffering, OverloadState.Normal], changes);
        Assert.Matches(StateSample(0), _metrics.Render());
        Assert.Equal(4, _pressure.Samples);
    }

    [Fact]
    public void Timer_NotYetDue_DoesNotSample()
    {
        Start();
        _pressure.Ratio = 0.95;

        _time.Advance(TimeSpan.FromMilliseconds(249));

        Assert.Equal(0, _pressure.Samples);
        Assert.Equal(OverloadState.Normal, _manager.State);
    }

    [Fact]
    public async Task WhenAccepting_StopAccepting_CompletesOnlyOncePressureFalls()
    {
        Start();
        Assert.True(_manager.WhenAccepting.IsCompleted);

        _pressure.Ratio = 0.95;
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var gate = _manager.WhenAccepting;
        Assert.False(gate.IsCompleted);

        _pressure.Ratio = 0.79;
        _time.Advance(TimeSpan.FromMilliseconds(250));

        await gate;
        Assert.Equal(OverloadState.RejectRequests, _manager.State);
    }

    [Fact]
    public void StopAsync_WhileNotAccepting_OpensTheGateSoTheServerCanUnbind()
    {
        Start();
        _pressure.Ratio = 0.95;
        _time.Advance(TimeSpan.FromMilliseconds(250));
        var gate = _manager.WhenAccepting;

        Assert.True(_manager.StopAsync(CancellationToken.None).IsCompletedSuccessfully);

        Assert.True(gate.IsCompleted);
    }

    [Fact]
    public void TryEnter_FollowsTheStateAndTheConcurrencyLimit()
    {
        Assert.True(_admission.TryEnter(null, out _));
        Assert.True(_admission.TryEnter(null, out _));
        Assert.False(_admission.TryEnter(null, out var action));
        Assert.Equal(OverloadAction.ConcurrencyLimit, action);
        Assert.Equal(2, _admission.InFlight);

        _admission.Exit(null);
        Assert.Equal(OverloadState.Normal, _admission.State);
        Start();
        _pressure.Ratio = 0.8;
        _time.Advance(TimeSpan.FromMilliseconds(250));

        Assert.Equal(OverloadState.RejectRequests, _admission.State);
        Assert.False(_admission.TryEnter(null, out action));
        Assert.Equal(OverloadAction.RequestRejected, action);
        Assert.Equal(1, _admission.InFlight);
    }

    [Fact]
    public void TryEnter_RequestPath_AllocatesNothing()
    {
        void Run()
        {
            // A request with a body to keep a copy of: its buffer room is reserved and given back.
            var entry = _admission.TryEnter(null, 60 * 1024, out _);
            if (entry.Admitted)
            {
                _admission.Exit(null, entry.CopyBytes);
            }
        }

        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            Run();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, _admission.InFlight);
    }

    [Fact]
    public void Constructor_PublishesEveryShedSeriesAtZero()
    {
        var text = _metrics.Render();

        foreach (var action in OverloadActions.All)
        {
            Assert.Contains($"sidecar_overload_shed_total{{action=\"{action}\"}} 0", text, StringComparison.Ordinal);
        }
    }

    /// <summary>The gauge's one sample (the exporter writes an unlabelled series with or without <c>{}</c>).</summary>
    private static string StateSample(int state) => $@"(?m)^sidecar_overload_state(\{{\}})? {state}$";

    /// <summary>Starts the manager's timer (synchronous: it only arms the timer).</summary>
    private void Start() => Assert.True(_manager.StartAsync(CancellationToken.None).IsCompletedSuccessfully);

    public void Dispose()
    {
        _manager.Dispose();
        _metrics.Dispose();
    }

    private sealed class SettablePressure : IMemoryPressureSource
    {
        public double Ratio { get; set; }

        public int Samples { get; private set; }

        public MemoryPressure Sample()
        {
            Samples++;
            return new MemoryPressure((long)(Ratio * 1000), 1000);
        }
    }
}
