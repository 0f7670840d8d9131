using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Configuration;

/// <summary>
/// Reads the PEM files a config names (<c>ca_file</c>, <c>cert_file</c>, <c>key_file</c>): at load, so
/// <c>validate</c> and <c>run</c> report a bad file where the config names it, and at every rotation. Each problem
/// is a message naming the file, never an exception.
/// </summary>
internal static class CertificateFiles
{
    /// <summary>The certificates of a PEM bundle (CAs); at least one.</summary>
    public static bool TryLoadAuthorities(string path, [NotNullWhen(true)] out X509Certificate2Collection? authorities, [NotNullWhen(false)] out string? error)
    {
        authorities = null;
        if (!TryRead(path, out var text, out error) || !TryParseCertificates(path, text, out var certificates, out error))
        {
            return false;
        }

        authorities = certificates;
        return true;
    }

    /// <summary>
    /// A certificate chain (leaf first) and the leaf's key: the key must be PKCS#8 or PKCS#1, RSA or ECDSA, match the
    /// leaf, and the leaf must be valid at <paramref name="now"/>.
    /// </summary>
    public static bool TryLoadCertificate(
        string certPath,
        string keyPath,
        DateTimeOffset now,
        [NotNullWhen(true)] out X509Certificate2? certificate,
        [NotNullWhen(true)] out X509Certificate2Collection? chain,
        [NotNullWhen(false)] out string? error)
        => TryLoadCertificate(certPath, keyPath, now, out certificate, out chain, out error, out _);

    /// <summary>As the overload without <paramref name="faultyFile"/>, which names the file at fault on failure.</summary>
    public static bool TryLoadCertificate(
        string certPath,
        string keyPath,
        DateTimeOffset now,
        [NotNullWhen(true)] out X509Certificate2? certificate,
        [NotNullWhen(true)] out X509Certificate2Collection? chain,
        [NotNullWhen(false)] out string? error,
        out string faultyFile)
    {
        certificate = null;
        chain = null;
        faultyFile = certPath;
        if (!TryRead(certPath, out var certText, out error) || !TryParseCertificates(certPath, certText, out var certificates, out error))
        {
            return false;
        }

        faultyFile = keyPath;
        if (!TryRead(keyPath, out var keyText, out error))
        {
            return false;
        }

        if (!HasSupportedKey(keyText))
        {
            error = $"no private key in '{keyPath}': expected a PEM 'PRIVATE KEY', 'RSA PRIVATE KEY' or 'EC PRIVATE KEY' block (unencrypted)";
            return false;
        }

        X509Certificate2 leaf;
        try
        {
            leaf = X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            error = $"the key in '{keyPath}' does not match the certificate in '{certPath}' ({certificates[0].Subject})";
            return false;
        }

        if (ValidityError(leaf, now) is { } invalid)
        {
            faultyFile = certPath;
            leaf.Dispose();
            error = $"the certificate in '{certPath}' {invalid}";
            return false;
        }

        certificates.RemoveAt(0);
        certificate = leaf;
        chain = certificates;
        return true;
    }

    /// <summary>"expired at ..." or "is not valid before ..." when <paramref name="certificate"/> is not valid at <paramref name="now"/>.</summary>
    public static string? ValidityError(X509Certificate2 certificate, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
        if (now > notAfter)
        {
            return $"expired at {Format(notAfter)} ({certificate.Subject})";
        }

        return now < notBefore ? $"is not valid before {Format(notBefore)} ({certificate.Subject})" : null;
    }

    /// <summary>The expiry of <paramref name="certificate"/> in UTC.</summary>
    public static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime());

    private static string Format(DateTimeOffset value) => value.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool TryRead(string path, [NotNullWhen(true)] out string? text, [NotNullWhen(false)] out string? error)
    {
        text = null;
        try
        {
            text = File.ReadAllText(path);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            error = $"file not found: '{path}'";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            error = $"cannot read '{path}': {ex.Message}";
        }

        return false;
    }

    private static bool TryParseCertificates(string path, string text, [NotNullWhen(true)] out X509Certificate2Collection? certificates, [NotNullWhen(false)] out string? error)
    {
        certificates = [];
        try
        {
            certificates.ImportFromPem(text);
        }
        catch (CryptographicException ex)
        {
            certificates = null;
            error = $"'{path}' is not a valid PEM certificate file: {ex.Message}";
            return false;
        }

        if (certificates.Count == 0)
        {
            certificates = null;
            error = $"no certificate in '{path}': expected a PEM 'CERTIFICATE' block";
            return false;
        }

        error = null;
        return true;
    }

    private static bool HasSupportedKey(string keyText)
    {
        try
        {
            using var rsa = RSA.Create();
            rsa.ImportFromPem(keyText);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
        }

        try
        {
            using var ecdsa = ECDsa.Create();
            ecdsa.ImportFromPem(keyText);
            return true;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
