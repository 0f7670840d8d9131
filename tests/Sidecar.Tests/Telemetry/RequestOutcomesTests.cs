using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class RequestOutcomesTests
{
    [Fact]
    public void Label_EveryOutcome_DistinctNonEmptyAndListedInAll() =>
        EnumLabels.AssertDistinctAndComplete<RequestOutcome>(RequestOutcomes.Label, RequestOutcomes.All);

    [Fact]
    public void Label_SameOutcome_SameInstance()
    {
        // The hot path tags metrics with the label: it must be the one cached string, never a new one.
        Assert.Same(RequestOutcome.SuccessAfterRetry.Label(), RequestOutcome.SuccessAfterRetry.Label());
        Assert.Equal("success_after_retry", RequestOutcome.SuccessAfterRetry.Label());
    }
}
