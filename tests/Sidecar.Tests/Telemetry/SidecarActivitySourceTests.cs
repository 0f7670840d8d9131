using System.Diagnostics;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

// Listeners on the "Sidecar" source are process-wide: the classes that add one share a collection, so they never run
// at the same time as the test that expects none.
[Collection(nameof(SidecarActivitySource))]
public sealed class SidecarActivitySourceTests
{
    [Fact]
    public void StartRequestAndAttempt_NoListener_ReturnNull()
    {
        Assert.Null(SidecarActivitySource.StartRequest("orders-read", "GET", new HeaderDictionary()));
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
        using (var request = SidecarActivitySource.StartRequest("orders-read", "GET", new HeaderDictionary()))
        {
            Assert.NotNull(request);
            Assert.Equal(ActivityKind.Server, request.Kind);
            Assert.Equal("GET orders-read", request.DisplayName);
            using (first = SidecarActivitySource.StartAttempt("orders-read", 1))
            {
                SidecarActivitySource.SetAttemptResult(first, AttemptResult.Status5xx, 503);
            }

            using (second = SidecarActivitySource.StartAttempt("orders-read", 2))
            {
                SidecarActivitySource.SetAttemptResult(second, AttemptResult.Status2xx, 200);
            }

            SidecarActivitySource.SetRequestOutcome(request, RequestOutcome.SuccessAfterRetry, 2, 200);
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

    [Fact]
    public void StartRequest_CallerSentTraceparent_ContinuesTheCallersTrace()
    {
        using var listener = Listen();
        var headers = new HeaderDictionary
        {
            ["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ["tracestate"] = "vendor=abc",
        };

        using var request = SidecarActivitySource.StartRequest("orders-read", "GET", headers);

        Assert.NotNull(request);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", request.TraceId.ToHexString());
        Assert.Equal("00f067aa0ba902b7", request.ParentSpanId.ToHexString());
        Assert.True(request.HasRemoteParent);
        Assert.Equal("vendor=abc", request.TraceStateString);
    }

    [Fact]
    public void StartRequest_AnotherActivityIsCurrent_StartsItsOwnRootInstead()
    {
        using var listener = Listen();
        using var aspNetCore = new Activity("Microsoft.AspNetCore.Hosting.HttpRequestIn").Start();

        using var request = SidecarActivitySource.StartRequest("orders-read", "GET", new HeaderDictionary());

        Assert.NotNull(request);
        Assert.Null(request.Parent);
        Assert.Equal(default, request.ParentSpanId);
        Assert.NotEqual(aspNetCore.TraceId, request.TraceId);
    }

    [Fact]
    public void SetAttemptResult_PerTryTimeout_IsAnErrorNamedAsInMetrics()
    {
        using var listener = Listen();
        using var attempt = SidecarActivitySource.StartAttempt("orders-read", 1);

        SidecarActivitySource.SetAttemptResult(attempt, AttemptResult.PerTryTimeout);

        Assert.NotNull(attempt);
        Assert.Equal("per_try_timeout", attempt.GetTagItem("sidecar.result"));
        Assert.Equal("per_try_timeout", attempt.GetTagItem("error.type"));
        Assert.Null(attempt.GetTagItem("http.response.status_code"));
        Assert.Equal(ActivityStatusCode.Error, attempt.Status);
        Assert.Equal("per_try_timeout", attempt.StatusDescription);
    }

    private static ActivityListener Listen()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == SidecarActivitySource.Name,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }
}
