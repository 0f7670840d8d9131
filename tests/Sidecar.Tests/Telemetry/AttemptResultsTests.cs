using Sidecar.Http;
using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class AttemptResultsTests
{
    [Fact]
    public void Label_EveryResult_DistinctNonEmptyAndListedInAll() =>
        EnumLabels.AssertDistinctAndComplete<AttemptResult>(AttemptResults.Label, AttemptResults.All);

    [Fact]
    public void OfStatus_AnyStatus_LabelIsItsStatusClass()
    {
        for (var status = -1; status <= 1000; status++)
        {
            Assert.Same(StatusClass.Of(status), AttemptResults.OfStatus(status).Label());
        }
    }

    [Fact]
    public void Label_TransportFailures_SpelledAsTheirRetryReasons()
    {
        Assert.Equal(RetryReason.ConnectFailure, AttemptResult.ConnectFailure.Label());
        Assert.Equal(RetryReason.Reset, AttemptResult.Reset.Label());
        Assert.Equal(RetryReason.PerTryTimeout, AttemptResult.PerTryTimeout.Label());
    }
}
