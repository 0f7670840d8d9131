using Microsoft.Extensions.Time.Testing;
using Sidecar.Tests.TestSupport;
using Sidecar.Tls;

namespace Sidecar.Tests.Tls;

public sealed class CertificateSourceTests : IDisposable
{
    private readonly PemFolder _pem = new();

    public void Dispose() => _pem.Dispose();

    [Fact]
    public void Reload_FilesUnchanged_Unchanged()
    {
        var (cert, key) = _pem.Pair("one");
        var source = new CertificateSource("cluster", "c", _pem.CaFile, cert, key, new FakeTimeProvider(DateTimeOffset.UtcNow));

        Assert.Equal(CertificateReloadResult.Loaded, source.Reload().Result);
        Assert.Equal(CertificateReloadResult.Unchanged, source.Reload().Result);
        Assert.Equal("CN=one", source.Current.Certificate!.Subject);
    }

    [Fact]
    public void Reload_NewFiles_Rotated()
    {
        var (cert, key) = _pem.Pair("one");
        var source = new CertificateSource("cluster", "c", null, cert, key, new FakeTimeProvider(DateTimeOffset.UtcNow));
        source.Reload();
        var (newCert, newKey) = _pem.Pair("two");
        File.Copy(newCert, cert, overwrite: true);
        File.Copy(newKey, key, overwrite: true);

        Assert.Equal(CertificateReloadResult.Rotated, source.Reload().Result);
        Assert.Equal("CN=two", source.Current.Certificate!.Subject);
        Assert.Equal(1, source.Rotations);
    }

    [Fact]
    public void Reload_BrokenNewKey_KeepsTheLastGoodAndCountsOnce()
    {
        var (cert, key) = _pem.Pair("one");
        var source = new CertificateSource("cluster", "c", null, cert, key, new FakeTimeProvider(DateTimeOffset.UtcNow));
        source.Reload();
        File.WriteAllText(key, "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n");

        var reload = source.Reload();

        Assert.Equal(CertificateReloadResult.Failed, reload.Result);
        Assert.Contains("no private key", reload.Error, StringComparison.Ordinal);
        Assert.Equal("CN=one", source.Current.Certificate!.Subject);
        Assert.Equal(CertificateReloadResult.Unchanged, source.Reload().Result);
        Assert.Equal(1, source.Failures);
    }

    [Fact]
    public void Reload_CertificateExpiredOnTheClock_Fails()
    {
        var (cert, key) = _pem.Pair("one", notAfter: DateTimeOffset.UtcNow.AddDays(1));
        var source = new CertificateSource("cluster", "c", null, cert, key, new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(2)));

        var reload = source.Reload();

        Assert.Equal(CertificateReloadResult.Failed, reload.Result);
        Assert.Contains("expired at", reload.Error, StringComparison.Ordinal);
        Assert.Null(source.Current.Certificate);
    }
}
