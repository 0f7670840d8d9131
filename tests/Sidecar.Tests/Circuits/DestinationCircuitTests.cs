using Microsoft.Extensions.Time.Testing;
using Sidecar.Configuration;
using Sidecar.Circuits;

namespace Sidecar.Tests.Circuits;

public sealed class DestinationCircuitTests
{
    private static readonly CircuitBreakerOptions Options = new()
    {
        FailureRatio = 0.5,
        MinimumRequests = 10,
        Window = TimeSpan.FromSeconds(10),
        BreakDuration = TimeSpan.FromSeconds(5),
    };

    [Fact]
    public void Record_FailuresBelowMinimumRequests_StaysClosed()
    {
        var circuit = new DestinationCircuit(Options, new FakeTimeProvider());

        for (var i = 0; i < 9; i++)
        {
            Assert.False(circuit.Record(failure: true, wasProbe: false));
        }

        Assert.True(circuit.IsClosed);
        Assert.True(circuit.TryAllow(out var isProbe));
        Assert.False(isProbe);
    }

    [Fact]
    public void Record_RatioReachedWithMinimumRequests_OpensAndRefuses()
    {
        var circuit = new DestinationCircuit(Options, new FakeTimeProvider());
        for (var i = 0; i < 5; i++)
        {
            circuit.Record(failure: false, wasProbe: false);
        }

        var opened = 0;
        for (var i = 0; i < 5; i++)
        {
            opened += circuit.Record(failure: true, wasProbe: false) ? 1 : 0;
        }

        Assert.Equal(1, opened);
        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.False(circuit.TryAllow(out _));
    }

    [Fact]
    public void Record_RatioBelowThreshold_StaysClosed()
    {
        var circuit = new DestinationCircuit(Options, new FakeTimeProvider());
        for (var i = 0; i < 20; i++)
        {
            circuit.Record(failure: i % 3 == 0, wasProbe: false);
        }

        Assert.True(circuit.IsClosed);
    }

    [Fact]
    public void Record_OldFailuresLeaveTheWindow_DoNotCount()
    {
        var time = new FakeTimeProvider();
        var circuit = new DestinationCircuit(Options, time);
        for (var i = 0; i < 9; i++)
        {
            circuit.Record(failure: true, wasProbe: false);
        }

        time.Advance(TimeSpan.FromSeconds(11));
        Assert.False(circuit.Record(failure: true, wasProbe: false));
        Assert.True(circuit.IsClosed);
    }

    [Fact]
    public void TryAllow_AfterBreakDuration_LetsExactlyOneProbeThrough()
    {
        var time = new FakeTimeProvider();
        var circuit = Opened(time);

        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(circuit.TryAllow(out _));
        time.Advance(TimeSpan.FromSeconds(0.2));

        Assert.True(circuit.TryAllow(out var first));
        Assert.True(first);
        Assert.False(circuit.TryAllow(out _));
        Assert.Equal(CircuitState.HalfOpen, circuit.State);
    }

    [Fact]
    public void Record_ProbeSucceeds_ClosesWithFreshWindow()
    {
        var time = new FakeTimeProvider();
        var circuit = Opened(time);
        time.Advance(TimeSpan.FromSeconds(6));
        circuit.TryAllow(out _);

        circuit.Record(failure: false, wasProbe: true);

        Assert.True(circuit.IsClosed);
        // The failures that opened it are forgotten: one more failure does not reopen it.
        Assert.False(circuit.Record(failure: true, wasProbe: false));
    }

    [Fact]
    public void Record_ProbeFails_OpensForAnotherBreak()
    {
        var time = new FakeTimeProvider();
        var circuit = Opened(time);
        time.Advance(TimeSpan.FromSeconds(6));
        circuit.TryAllow(out _);

        Assert.True(circuit.Record(failure: true, wasProbe: true));

        Assert.Equal(CircuitState.Open, circuit.State);
        Assert.False(circuit.TryAllow(out _));
        time.Advance(TimeSpan.FromSeconds(5.1));
        Assert.True(circuit.TryAllow(out var isProbe));
        Assert.True(isProbe);
    }

    [Fact]
    public void ReleaseProbe_UnusedProbe_LetsTheNextRequestProbe()
    {
        var time = new FakeTimeProvider();
        var circuit = Opened(time);
        time.Advance(TimeSpan.FromSeconds(6));
        circuit.TryAllow(out _);

        circuit.ReleaseProbe();

        Assert.True(circuit.TryAllow(out var isProbe));
        Assert.True(isProbe);
    }

    private static DestinationCircuit Opened(FakeTimeProvider time)
    {
        var circuit = new DestinationCircuit(Options, time);
        for (var i = 0; i < 10; i++)
        {
            circuit.Record(failure: true, wasProbe: false);
        }

        Assert.Equal(CircuitState.Open, circuit.State);
        return circuit;
    }
}
