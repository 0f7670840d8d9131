using Sidecar.Cli;

namespace Sidecar.Tests.Cli;

public sealed class HealthCommandTests
{
    [Theory]
    [InlineData("http://0.0.0.0:9901", "http://127.0.0.1:9901/readyz")]
    [InlineData("http://[::]:9901", "http://[::1]:9901/readyz")]
    [InlineData("http://127.0.0.1:19901", "http://127.0.0.1:19901/readyz")]
    [InlineData("http://localhost:9901", "http://localhost:9901/readyz")]
    [InlineData("http://10.1.2.3:9901", "http://10.1.2.3:9901/readyz")]
    public void ProbeAddress_AdminAddress_AsksReadyzWhereTheProcessListens(string admin, string expected)
    {
        Assert.Equal(new Uri(expected), HealthCommand.ProbeAddress(admin));
    }

    [Fact]
    public void ProbeAddress_PortZero_HasNoAddressToAsk()
    {
        Assert.Null(HealthCommand.ProbeAddress("http://127.0.0.1:0"));
    }
}
