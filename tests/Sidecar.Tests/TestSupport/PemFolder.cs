using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Tests.TestSupport;

/// <summary>A temp folder of PEM files made with <see cref="CertificateRequest"/>: a CA and certificates it issues, valid or not.</summary>
internal sealed class PemFolder : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("sidecar-pem-");
    private readonly X509Certificate2 _authority;

    public PemFolder()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Unit Root", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _authority = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(1));
        CaFile = Write("ca.crt", _authority.ExportCertificatePem());
    }

    public string CaFile { get; }

    public string Path => _directory.FullName;

    /// <summary>
    /// An ECDSA certificate and its key (PKCS#8, or SEC1 "EC PRIVATE KEY" with <paramref name="traditional"/>); returns
    /// both paths. With <paramref name="viaIntermediate"/> it is issued by an intermediate CA (CN=Unit Issuing CA) under
    /// the root, written after it in the certificate file.
    /// </summary>
    public (string Cert, string Key) Pair(string name, DateTimeOffset? notAfter = null, bool traditional = false, bool viaIntermediate = false)
    {
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var intermediate = viaIntermediate ? Intermediate(intermediateKey) : null;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        using var issued = request.Create(intermediate ?? _authority, DateTimeOffset.UtcNow.AddDays(-10), notAfter ?? DateTimeOffset.UtcNow.AddDays(30), [1, 2, 3, (byte)name.Length]);
        var pem = issued.ExportCertificatePem() + (intermediate is null ? string.Empty : "\n" + intermediate.ExportCertificatePem());
        return (Write(name + ".crt", pem), Write(name + ".key", traditional ? key.ExportECPrivateKeyPem() : key.ExportPkcs8PrivateKeyPem()));
    }

    private X509Certificate2 Intermediate(ECDsa key)
    {
        var request = new CertificateRequest("CN=Unit Issuing CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        using var issued = request.Create(_authority, DateTimeOffset.UtcNow.AddDays(-20), DateTimeOffset.UtcNow.AddDays(300), [9, 8, 7]);
        return issued.CopyWithPrivateKey(key);
    }

    public string Write(string fileName, string text)
    {
        var path = System.IO.Path.Combine(_directory.FullName, fileName);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        _authority.Dispose();
        _directory.Delete(recursive: true);
    }
}
