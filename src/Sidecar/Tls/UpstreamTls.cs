using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Configuration;
using Sidecar.Telemetry;

namespace Sidecar.Tls;

/// <summary>
/// A cluster's TLS: which server certificates it accepts (its <c>ca_file</c>'s CAs, or the system's) for which name
/// (<c>server_name</c>, or the destination's host), and the client certificate it presents. The callbacks read the
/// <see cref="CertificateSource"/>'s current material at each handshake, so a rotation reaches new connections
/// without a new HttpClient and without disturbing pooled ones.
/// </summary>
internal sealed class UpstreamTls
{
    private readonly TimeProvider _timeProvider;

    public UpstreamTls(string cluster, UpstreamTlsOptions? options, TimeProvider timeProvider)
    {
        Cluster = cluster;
        Options = options ?? new UpstreamTlsOptions();
        _timeProvider = timeProvider;
        Source = new CertificateSource(MetricTags.Cluster, cluster, Options.CaFile, Options.CertFile, Options.KeyFile, timeProvider);
    }

    public string Cluster { get; }

    public UpstreamTlsOptions Options { get; }

    public CertificateSource Source { get; }

    /// <summary>Whether the cluster has files to load and watch.</summary>
    public bool HasFiles => Options.CaFile is not null || Options.CertFile is not null;

    /// <summary>Sets the handler's TLS options: versions, the server check and, with <c>cert_file</c>, the client certificate.</summary>
    public void Configure(SslClientAuthenticationOptions ssl)
    {
        ssl.EnabledSslProtocols = Options.MinVersion == TlsMinVersion.Tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13;
        ssl.RemoteCertificateValidationCallback = ValidateServerCertificate;
        ssl.LocalCertificateSelectionCallback = SelectClientCertificate;
        if (Options.CertFile is not null)
        {
            // A resumed TLS session carries the identity of the handshake that created it: after a rotation the
            // upstream would keep seeing the old client certificate on new connections. Connections are pooled, so
            // this costs one full handshake per new connection, not per request.
            ssl.AllowTlsResume = false;
        }
    }

    /// <summary>
    /// Accepts the server's certificate, or throws <see cref="UpstreamCertificateException"/> naming why not: not yet
    /// or no longer valid, not issued by a trusted CA, or not for the expected name. With <c>insecure_skip_verify</c>
    /// anything is accepted.
    /// </summary>
    internal bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (Options.InsecureSkipVerify)
        {
            return true;
        }

        if (certificate is null)
        {
            throw new UpstreamCertificateException("was not sent (the server presented no certificate)");
        }

        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (CertificateFiles.ValidityError(leaf, _timeProvider.GetUtcNow()) is { } invalid)
        {
            throw new UpstreamCertificateException(invalid);
        }

        var authorities = Source.Current.Authorities;
        if (authorities is not null)
        {
            using var custom = CustomTrustChain.Create(authorities, chain, _timeProvider.GetUtcNow().UtcDateTime);

            if (!custom.Build(leaf))
            {
                throw new UpstreamCertificateException(ChainProblem(leaf, custom));
            }
        }
        else if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            throw new UpstreamCertificateException(chain is null ? $"is not trusted: issuer {leaf.Issuer}" : ChainProblem(leaf, chain));
        }

        var name = Options.ServerName ?? (sender as SslStream)?.TargetHostName;
        if (!string.IsNullOrEmpty(name) && !leaf.MatchesHostname(name))
        {
            throw new UpstreamCertificateException($"does not match the name '{name}' ({Names(leaf)})");
        }

        return true;
    }

    /// <summary>
    /// The client certificate of the current material, when the handler has none of its own: a loaded certificate goes
    /// out through the handler's <see cref="SslClientAuthenticationOptions.ClientCertificateContext"/>, with its
    /// intermediates (<c>Forwarding/ClientCertificateHandler</c>), and the TLS layer then does not ask. It asks once before
    /// the handshake (no server certificate yet) and again when the server requests one (with its certificate): asked
    /// then without a certificate to give, the handshake ends here with the reason, where sending none would have the
    /// server close the connection after the handshake, which reads like a reset.
    /// </summary>
    private X509Certificate? SelectClientCertificate(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate, string[] acceptableIssuers)
    {
        var certificate = Source.Current.Certificate;
        if (certificate is null && remoteCertificate is not null)
        {
            throw new UpstreamClientCertificateException(Options.CertFile is null
                ? "requires a client certificate and the cluster has none (set tls.cert_file and tls.key_file)"
                : "requires a client certificate and the cluster's did not load (see the Warning about its files)");
        }

        return certificate;
    }

    private static string ChainProblem(X509Certificate2 leaf, X509Chain chain)
    {
        foreach (var status in chain.ChainStatus)
        {
            if ((status.Status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
            {
                return $"is not trusted: issuer {leaf.Issuer}";
            }
        }

        foreach (var status in chain.ChainStatus)
        {
            if ((status.Status & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return $"is not trusted: a certificate of its chain is outside its validity ({status.StatusInformation.Trim()})";
            }
        }

        var first = chain.ChainStatus.Length > 0 ? chain.ChainStatus[0].StatusInformation.Trim() : "chain does not verify";
        return $"is not trusted: {first} (issuer {leaf.Issuer})";
    }

    /// <summary>The names a certificate is for, for the mismatch message: its DNS and IP subject alternative names, else its subject.</summary>
    private static string Names(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension san)
            {
                var names = new List<string>();
                names.AddRange(san.EnumerateDnsNames().Select(n => "DNS:" + n));
                names.AddRange(san.EnumerateIPAddresses().Select(a => "IP:" + a));
                if (names.Count > 0)
                {
                    return "it is for " + string.Join(", ", names);
                }
            }
        }

        return "its subject is " + certificate.Subject;
    }
}
