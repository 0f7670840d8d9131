using System.Diagnostics;
using Sidecar.Telemetry;
using Yarp.ReverseProxy.Transforms;

namespace Sidecar.Tests.Telemetry;

[Collection(nameof(SidecarActivitySource))]
public sealed class TraceContextTransformTests
{
    private const string CallerTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    [Fact]
    public async Task ApplyAsync_AttemptSpanCurrent_SendsItsContextInsteadOfTheCallers()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SidecarActivitySource.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        var headers = new HeaderDictionary { ["traceparent"] = CallerTraceparent, ["tracestate"] = "vendor=abc" };
        using var request = SidecarActivitySource.StartRequest("orders-read", "GET", headers);
        using var attempt = SidecarActivitySource.StartAttempt("orders-read", 1);
        var context = Context(CallerTraceparent);

        await TraceContextTransform.Instance.ApplyAsync(context);

        Assert.NotNull(attempt);
        Assert.Equal($"00-4bf92f3577b34da6a3ce929d0e0e4736-{attempt.SpanId.ToHexString()}-01", Assert.Single(context.ProxyRequest.Headers.GetValues("traceparent")));
        Assert.Equal("vendor=abc", Assert.Single(context.ProxyRequest.Headers.GetValues("tracestate")));
    }

    [Fact]
    public async Task ApplyAsync_NoSidecarSpan_LeavesTheCallersContext()
    {
        using var other = new Activity("some.other.span").Start();
        var context = Context(CallerTraceparent);

        await TraceContextTransform.Instance.ApplyAsync(context);

        Assert.Equal(CallerTraceparent, Assert.Single(context.ProxyRequest.Headers.GetValues("traceparent")));
    }

    private static RequestTransformContext Context(string traceparent)
    {
        var proxyRequest = new HttpRequestMessage(HttpMethod.Get, "http://upstream/orders/1");
        proxyRequest.Headers.TryAddWithoutValidation("traceparent", traceparent);
        return new RequestTransformContext
        {
            HttpContext = new DefaultHttpContext(),
            ProxyRequest = proxyRequest,
            Path = "/orders/1",
            Query = new QueryTransformContext(new DefaultHttpContext().Request),
        };
    }
}
