using Sidecar.Policies;

namespace Sidecar.Tests.Policies;

public sealed class SharedRandomSourceTests
{
    [Fact]
    public void NextDouble_IsInUnitInterval()
    {
        IRandomSource random = SharedRandomSource.Instance;
        for (var i = 0; i < 10_000; i++)
        {
            Assert.InRange(random.NextDouble(), 0.0, double.BitDecrement(1.0));
        }
    }
}
