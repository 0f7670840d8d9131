using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Sidecar.Retries;

namespace Sidecar.Benchmarks;

/// <summary><see cref="ControlHeaders.Any"/>: the scan every proxied request gets for <c>x-sidecar-*</c> headers.</summary>
public class ControlHeadersBenchmarks
{
    private HeaderDictionary _typical = null!;
    private HeaderDictionary _withControl = null!;

    [GlobalSetup]
    public void Setup()
    {
        _typical = new HeaderDictionary
        {
            ["Host"] = "orders.internal:8080",
            ["User-Agent"] = "orders-client/1.4 (.NET 10)",
            ["Accept"] = "application/json",
            ["Accept-Encoding"] = "gzip, br",
            ["Content-Type"] = "application/json",
            ["Content-Length"] = "342",
            ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ["Authorization"] = "Bearer eyJhbGciOiJIUzI1NiJ9.e30.ZRrHA1JJJW8opsbCGfG_HACGpVUMN_a9IV7pAx_Zmeo",
        };
        _withControl = new HeaderDictionary(_typical.ToDictionary(h => h.Key, h => h.Value))
        {
            ["x-sidecar-timeout-ms"] = "2000",
        };
    }

    [Benchmark]
    public bool AnyTypical() => ControlHeaders.Any(_typical);

    [Benchmark]
    public bool AnyWithControlHeader() => ControlHeaders.Any(_withControl);
}
