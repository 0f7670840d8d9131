using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Sidecar.Benchmarks;

/// <summary>
/// BenchmarkDotNet's defaults (console log, markdown and CSV reports) with one short in-process job and allocation
/// counts: the numbers are for comparing before and after a change on the same machine, in about a minute per class.
/// In-process, because a generated benchmark project inside this repository would inherit its build rules (warnings
/// as errors) and need its own restore.
/// </summary>
public static class BenchmarkConfig
{
    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance))
        .AddDiagnoser(MemoryDiagnoser.Default);
}
