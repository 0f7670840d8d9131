using System.Security.Cryptography.X509Certificates;

namespace Sidecar.Tls;

/// <summary>
/// The chain a peer's certificate is built on when a <c>ca_file</c> (or <c>client_ca_file</c>) replaces the system's
/// trust: those CAs as the only roots, no revocation check (private CAs rarely publish one), the time of
/// <see cref="TimeProvider"/>, and the intermediates the peer presented. One recipe for upstreams and listeners.
/// </summary>
internal static class CustomTrustChain
{
    public static X509Chain Create(X509Certificate2Collection authorities, X509Chain? presented, DateTime verificationTime)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = verificationTime;
        if (presented is not null)
        {
            foreach (var element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return chain;
    }
}
