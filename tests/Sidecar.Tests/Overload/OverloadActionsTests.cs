using Sidecar.Overload;
using Sidecar.Tests.Telemetry;

namespace Sidecar.Tests.Overload;

public sealed class OverloadActionsTests
{
    [Fact]
    public void Label_EveryAction_DistinctNonEmptyAndListedInAll() =>
        EnumLabels.AssertDistinctAndComplete<OverloadAction>(OverloadActions.Label, OverloadActions.All);
}
