using System.Diagnostics;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class SidecarActivitySourceTests
{
    [Fact]
    public void StartRequestAndAttempt_NoListener_ReturnNull()
    {
        // Only this class adds listeners to the "Sidecar" source in this assembly, and its tests run one at a time.
        Assert.Null(SidecarActivitySource.StartRequest("orders-read", "GET"));
        Assert.Null(SidecarActivitySource.StartAttempt("orders-read", 2));
    }

    [Fact]
    public void StartRequestAndAttempt_Listened_CreateServerSpanWithClientChildren()
    {
        var stopped = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SidecarActivitySource.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        listener.ActivityStopped = activity =>
        {
            lock (stopped)
            {
                stopped.Add(activity);
            }
        };
        ActivitySource.AddActivityListener(listener);

        Activity? first;
        Activity? second;
        using (var request = SidecarActivitySource.StartRequest("orders-read", "GET"))
        {
            Assert.NotNull(request);
            Assert.Equal(ActivityKind.Server, request.Kind);
            Assert.Equal("GET orders-read", request.DisplayName);
            using (first = SidecarActivitySource.StartAttempt("orders-read", 1))
            {
                SidecarActivitySource.SetAttemptResult(first, "5xx", 503);
            }

            using (second = SidecarActivitySource.StartAttempt("orders-read", 2))
            {
                SidecarActivitySource.SetAttemptResult(second, "2xx", 200);
            }

            SidecarActivitySource.SetRequestOutcome(request, "success_after_retry", 2, 200);
            Assert.Equal(request.SpanId, first!.ParentSpanId);
            Assert.Equal(request.SpanId, second!.ParentSpanId);
        }

        Assert.Equal(ActivityKind.Client, first.Kind);
        Assert.Null(first.GetTagItem("http.request.resend_count"));
        Assert.Equal(ActivityStatusCode.Error, first.Status);
        Assert.Equal(1, second.GetTagItem("http.request.resend_count"));
        Assert.Equal(2, second.GetTagItem("sidecar.attempt"));
        Assert.Equal(ActivityStatusCode.Unset, second.Status);
    }
}
