using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Benchmarks;

/// <summary>
/// What a request on a route without a policy records in <see cref="SidecarMetrics"/>, with the OpenTelemetry SDK and
/// its Prometheus exporter listening as in the proxy: the part of the success path that bare YARP does not have.
/// </summary>
public class RequestTelemetryBenchmarks
{
    private static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(1.5);
    private ServiceProvider _services = null!;
    private SidecarMetrics _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection()
            .AddSidecarTelemetry(new ConfigurationBuilder().Build(), new TelemetryOptions())
            .BuildServiceProvider();
        _metrics = _services.GetRequiredService<SidecarMetrics>();
        _ = _services.GetRequiredService<MeterProvider>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>As <c>SingleAttemptForwarder</c>: in flight, one attempt, one request.</summary>
    [Benchmark]
    public void RequestWithoutPolicy()
    {
        _metrics.RequestStarted();
        _metrics.RequestEnded();
        _metrics.AttemptCompleted("ok", "ok", AttemptResult.Status2xx, Duration);
        _metrics.RequestCompleted("ok", "none", "GET", RequestOutcome.Success, "2xx", 1, Duration);
    }
}
