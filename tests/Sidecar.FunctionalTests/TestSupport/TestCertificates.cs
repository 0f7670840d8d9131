using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// A private CA and certificates it issues, made in the test with <see cref="CertificateRequest"/> and written as PEM
/// files to a temp folder: what a company's internal services use, and what cert-manager writes into a Secret.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private readonly DirectoryInfo _directory;

    private TestCertificates(string caName)
    {
        _directory = System.IO.Directory.CreateTempSubdirectory("sidecar-tls-");
        using var caKey = RSA.Create(2048);
        var request = new CertificateRequest($"CN={caName}", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        Authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(5));
        CaFile = Write("ca.crt", Authority.ExportCertificatePem());
    }

    /// <summary>The CA, with its key.</summary>
    public X509Certificate2 Authority { get; }

    /// <summary>The CA as a PEM file.</summary>
    public string CaFile { get; }

    public string Directory => _directory.FullName;

    public static TestCertificates Create(string caName = "Test Root") => new(caName);

    /// <summary>A server certificate for <paramref name="dnsName"/> (and 127.0.0.1 when <paramref name="withLoopbackIp"/>), issued by the root or by <paramref name="issuer"/>.</summary>
    public X509Certificate2 Server(string dnsName = "localhost", bool withLoopbackIp = true, DateTimeOffset? notBefore = null, DateTimeOffset? notAfter = null, X509Certificate2? issuer = null) =>
        Issue($"CN={dnsName}", dnsName, withLoopbackIp, serverAuth: true, notBefore, notAfter, issuer);

    /// <summary>A client certificate (clientAuth) named <paramref name="name"/>, issued by the root or by <paramref name="issuer"/>.</summary>
    public X509Certificate2 Client(string name = "sidecar-client", DateTimeOffset? notAfter = null, X509Certificate2? issuer = null) =>
        Issue($"CN={name}", dnsName: null, withLoopbackIp: false, serverAuth: false, notBefore: null, notAfter, issuer);

    /// <summary>An intermediate CA under the root (with its key), as a company's issuing CA: leaves it signs chain to the root only through it.</summary>
    public X509Certificate2 Intermediate(string name = "Test Issuing CA")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var issued = request.Create(Authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), Serial());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// Writes <paramref name="certificate"/> (followed by <paramref name="chain"/>, as cert-manager writes <c>tls.crt</c>)
    /// and its key as <c>{name}.crt</c> and <c>{name}.key</c> (PKCS#8); returns both paths.
    /// </summary>
    public (string CertFile, string KeyFile) WritePem(X509Certificate2 certificate, string name, params X509Certificate2[] chain)
    {
        using var key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
        var pem = certificate.ExportCertificatePem() + "\n" + string.Concat(chain.Select(c => c.ExportCertificatePem() + "\n"));
        return (Write(name + ".crt", pem), Write(name + ".key", key.ExportPkcs8PrivateKeyPem()));
    }

    public string Write(string fileName, string text)
    {
        var path = Path.Combine(_directory.FullName, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        Authority.Dispose();
        try
        {
            _directory.Delete(recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static byte[] Serial()
    {
        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        return serial;
    }

    private X509Certificate2 Issue(string subject, string? dnsName, bool withLoopbackIp, bool serverAuth, DateTimeOffset? notBefore, DateTimeOffset? notAfter, X509Certificate2? issuer = null)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [serverAuth ? new Oid("1.3.6.1.5.5.7.3.1") : new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        if (dnsName is not null)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddDnsName(dnsName);
            if (withLoopbackIp)
            {
                names.AddIpAddress(IPAddress.Loopback);
            }

            request.CertificateExtensions.Add(names.Build());
        }

        using var issued = request.Create(issuer ?? Authority, notBefore ?? DateTimeOffset.UtcNow.AddHours(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), Serial());
        return issued.CopyWithPrivateKey(key);
    }
}
