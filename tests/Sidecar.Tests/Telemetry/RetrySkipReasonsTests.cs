using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class RetrySkipReasonsTests
{
    [Fact]
    public void Label_EveryReason_DistinctNonEmptyAndListedInAll() =>
        EnumLabels.AssertDistinctAndComplete<RetrySkipReason>(RetrySkipReasons.Label, RetrySkipReasons.All);
}
