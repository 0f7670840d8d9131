using System.Globalization;
using Sidecar.Configuration;

namespace Sidecar.Cli;

/// <summary>
/// The TLS part of <c>sidecar validate</c>: for the https listener and each cluster with an https destination, which CAs
/// it trusts, the certificate it presents (subject, expiry, intermediates sent), the name it verifies and the lowest
/// version, and a warning when it verifies nothing. What an operator checks before a rotation or a first mTLS call.
/// </summary>
internal static class TlsSummary
{
    /// <summary>Writes the summary, with certificates' days left counted from <paramref name="now"/>; nothing when no listener or cluster uses TLS.</summary>
    public static void Write(TextWriter output, SidecarConfig config, DateTimeOffset now)
    {
        var lines = new List<string>();
        if (config.Listen.Tls is { } listen)
        {
            lines.Add($"  {SidecarConfigKeys.Listen}.{ListenKeys.Proxy}: certificate {Certificate(listen.CertFile, listen.KeyFile, now)}");
            lines.Add(listen.ClientCaFile is { } clientCa
                ? $"    {ListenKeys.TlsKeys.ClientCaFile} {Authorities(clientCa, now)}: callers must present a certificate from it"
                : "    callers need no certificate");
        }

        foreach (var cluster in config.Clusters.Values)
        {
            if (cluster.Tls is null && !cluster.Destinations.Any(d => d.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var tls = cluster.Tls ?? new UpstreamTlsOptions();
            lines.Add($"  cluster {cluster.Name}: trusts {(tls.CaFile is { } ca ? $"{ClusterKeys.TlsKeys.CaFile} {Authorities(ca, now)}" : "the system's CAs")}");
            lines.Add(tls.CertFile is { } cert && tls.KeyFile is { } key
                ? $"    client certificate {Certificate(cert, key, now)}"
                : "    no client certificate");
            lines.Add($"    {ClusterKeys.TlsKeys.ServerName} {tls.ServerName ?? "(each destination's host)"}, {ClusterKeys.TlsKeys.MinVersion} {ConfigSpellings.Name(ConfigSpellings.TlsVersions, tls.MinVersion)}");
            if (tls.InsecureSkipVerify)
            {
                lines.Add($"    warning: {ClusterKeys.TlsKeys.InsecureSkipVerify} is true: any server certificate is accepted, with no protection against an impostor");
            }
        }

        if (lines.Count == 0)
        {
            return;
        }

        output.WriteLine("tls:");
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
    }

    /// <summary>"CN=x, expires ... (in N days), with 1 intermediate: path", or the file's problem.</summary>
    private static string Certificate(string certFile, string keyFile, DateTimeOffset now)
    {
        if (!CertificateFiles.TryLoadCertificate(certFile, keyFile, now, out var certificate, out var chain, out var error))
        {
            return $"{certFile}: {error}";
        }

        using (certificate)
        {
            var intermediates = chain.Count switch
            {
                0 => "no intermediate",
                1 => "1 intermediate",
                _ => $"{chain.Count} intermediates",
            };
            return $"{certificate.Subject}, {Expiry(CertificateFiles.NotAfter(certificate), now)}, issued by {certificate.Issuer}, sent with {intermediates}: {certFile}";
        }
    }

    /// <summary>"path (2 CAs: CN=a; CN=b; the earliest expires ...)", or the file's problem.</summary>
    private static string Authorities(string caFile, DateTimeOffset now)
    {
        if (!CertificateFiles.TryLoadAuthorities(caFile, out var authorities, out var error))
        {
            return $"{caFile}: {error}";
        }

        var subjects = new List<string>(authorities.Count);
        DateTimeOffset? earliest = null;
        foreach (var authority in authorities)
        {
            subjects.Add(authority.Subject);
            var notAfter = CertificateFiles.NotAfter(authority);
            earliest = earliest is null || notAfter < earliest ? notAfter : earliest;
            authority.Dispose();
        }

        var count = authorities.Count == 1 ? "1 CA" : $"{authorities.Count} CAs";
        return $"{caFile} ({count}: {string.Join("; ", subjects)}; {(authorities.Count == 1 ? string.Empty : "the earliest ")}{Expiry(earliest!.Value, now)})";
    }

    private static string Expiry(DateTimeOffset notAfter, DateTimeOffset now)
    {
        var days = (int)Math.Floor((notAfter - now).TotalDays);
        return string.Create(CultureInfo.InvariantCulture, $"expires {notAfter.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} (in {days} days)");
    }
}
