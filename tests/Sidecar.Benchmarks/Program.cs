using BenchmarkDotNet.Running;
using Sidecar.Benchmarks;

// dotnet run -c Release --project tests/Sidecar.Benchmarks -- --filter '*'   (see tests/bench/README.md)
BenchmarkSwitcher.FromAssembly(typeof(BenchmarkConfig).Assembly).Run(args, BenchmarkConfig.Create());
