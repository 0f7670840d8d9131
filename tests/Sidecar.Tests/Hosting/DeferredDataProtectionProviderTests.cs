using System.Security.Cryptography;
using System.Text;
using Sidecar.Hosting;

namespace Sidecar.Tests.Hosting;

public sealed class DeferredDataProtectionProviderTests
{
    [Fact]
    public void Protect_NestedPurpose_RoundTripsAndOtherPurposesCannotRead()
    {
        var provider = new DeferredDataProtectionProvider();
        var protector = provider.CreateProtector("affinity").CreateProtector("cluster-a");
        var secret = Encoding.UTF8.GetBytes("destination-1");

        var protectedBytes = protector.Protect(secret);

        Assert.NotEqual(secret, protectedBytes);
        Assert.Equal(secret, protector.Unprotect(protectedBytes));
        Assert.ThrowsAny<CryptographicException>(() => provider.CreateProtector("affinity").CreateProtector("cluster-b").Unprotect(protectedBytes));
    }
}
