namespace Sidecar.Demo;

/// <summary>Everything the report shows: the run's settings, how long traffic ran, and the two columns.</summary>
internal sealed record DemoResult(DemoOptions Options, TimeSpan Elapsed, DemoColumn WithRetries, DemoColumn WithoutRetries, bool Interrupted);
