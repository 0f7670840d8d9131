using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Tls;

/// <summary>
/// One loaded generation of a certificate source: the trusted CAs and/or the certificate with its key. Immutable; a
/// rotation builds a new one and swaps it whole, so a handshake reads one consistent generation.
/// </summary>
/// <param name="Authorities">The CAs of <c>ca_file</c> (or <c>client_ca_file</c>); <c>null</c> without one.</param>
/// <param name="Certificate">The certificate of <c>cert_file</c> with the key of <c>key_file</c>; <c>null</c> without one.</param>
/// <param name="Chain">The intermediates after the leaf in <c>cert_file</c>.</param>
internal sealed record CertificateMaterial(X509Certificate2Collection? Authorities, X509Certificate2? Certificate, X509Certificate2Collection Chain)
{
    public static CertificateMaterial Empty { get; } = new(null, null, []);

    /// <summary>The earliest expiry among the CAs, for the expiry gauge.</summary>
    public DateTimeOffset? AuthoritiesNotAfter
    {
        get
        {
            DateTimeOffset? earliest = null;
            foreach (var authority in Authorities ?? [])
            {
                var notAfter = Sidecar.Configuration.CertificateFiles.NotAfter(authority);
                if (earliest is null || notAfter < earliest)
                {
                    earliest = notAfter;
                }
            }

            return earliest;
        }
    }
}
