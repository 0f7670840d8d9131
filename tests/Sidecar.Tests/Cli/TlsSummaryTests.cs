using Sidecar.Cli;
using Sidecar.Configuration;
using Sidecar.Tests.TestSupport;

namespace Sidecar.Tests.Cli;

/// <summary><c>sidecar validate</c>'s TLS lines: what the listener and each https cluster trust, present and verify.</summary>
public sealed class TlsSummaryTests : IDisposable
{
    private readonly PemFolder _pem = new();

    public void Dispose() => _pem.Dispose();

    [Fact]
    public void Write_ListenerAndClusters_SaysTrustCertificateNameVersionAndWarnsOnSkipVerify()
    {
        var now = DateTimeOffset.UtcNow;
        var notAfter = DateTimeOffset.FromUnixTimeSeconds(now.AddDays(20).AddHours(1).ToUnixTimeSeconds());
        var (serverCert, serverKey) = _pem.Pair("localhost", notAfter);
        var (clientCert, clientKey) = _pem.Pair("orders-sidecar", notAfter);
        var config = Parse($$"""
            listen:
              proxy: https://127.0.0.1:8443
              tls: { cert_file: {{serverCert}}, key_file: {{serverKey}} }
            clusters:
              payments:
                destinations: [https://10.0.0.7:8443]
                tls:
                  ca_file: {{_pem.CaFile}}
                  cert_file: {{clientCert}}
                  key_file: {{clientKey}}
                  server_name: payments.internal
                  min_version: "1.3"
              public:
                destinations: [https://api.example.com]
              debug:
                destinations: [https://127.0.0.1:9443]
                tls: { insecure_skip_verify: true }
              plain:
                destinations: [http://127.0.0.1:8080]
            routes:
              - { name: p, match: { path: "/p/{**rest}" }, cluster: payments }
              - { name: q, match: { path: "/q/{**rest}" }, cluster: public }
              - { name: d, match: { path: "/d/{**rest}" }, cluster: debug }
              - { name: x, match: { path: "/{**rest}" }, cluster: plain }
            """);
        var output = new StringWriter();

        TlsSummary.Write(output, config, now);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        var expiry = $"expires {notAfter.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} (in 20 days)";
        Assert.Equal("tls:", lines[0]);
        Assert.Equal($"  listen.proxy: certificate CN=localhost, {expiry}, issued by CN=Unit Root, sent with no intermediate: {serverCert}", lines[1]);
        Assert.Equal("    callers need no certificate", lines[2]);
        Assert.StartsWith($"  cluster payments: trusts ca_file {_pem.CaFile} (1 CA: CN=Unit Root; expires ", lines[3], StringComparison.Ordinal);
        Assert.Equal($"    client certificate CN=orders-sidecar, {expiry}, issued by CN=Unit Root, sent with no intermediate: {clientCert}", lines[4]);
        Assert.Equal("    server_name payments.internal, min_version 1.3", lines[5]);
        Assert.Equal("  cluster public: trusts the system's CAs", lines[6]);
        Assert.Equal("    no client certificate", lines[7]);
        Assert.Equal("    server_name (each destination's host), min_version 1.2", lines[8]);
        Assert.Equal("  cluster debug: trusts the system's CAs", lines[9]);
        Assert.Equal("    no client certificate", lines[10]);
        Assert.Equal("    server_name (each destination's host), min_version 1.2", lines[11]);
        Assert.Equal("    warning: insecure_skip_verify is true: any server certificate is accepted, with no protection against an impostor", lines[12]);
        Assert.Equal(13, lines.Length);
    }

    [Fact]
    public void Write_ClientCaFile_SaysCallersMustPresentACertificate()
    {
        var (serverCert, serverKey) = _pem.Pair("localhost");
        var config = Parse($$"""
            listen:
              proxy: https://127.0.0.1:8443
              tls: { cert_file: {{serverCert}}, key_file: {{serverKey}}, client_ca_file: {{_pem.CaFile}} }
            clusters:
              app: { destinations: [http://127.0.0.1:8080] }
            routes:
              - { name: x, match: { path: "/{**rest}" }, cluster: app }
            """);
        var output = new StringWriter();

        TlsSummary.Write(output, config, DateTimeOffset.UtcNow);

        var lines = output.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith($"    client_ca_file {_pem.CaFile} (1 CA: CN=Unit Root; expires ", lines[2], StringComparison.Ordinal);
        Assert.EndsWith("): callers must present a certificate from it", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Write_NoTlsAnywhere_WritesNothing()
    {
        var config = Parse("""
            clusters:
              app: { destinations: [http://127.0.0.1:8080] }
            routes:
              - { name: x, match: { path: "/{**rest}" }, cluster: app }
            """);
        var output = new StringWriter();

        TlsSummary.Write(output, config, DateTimeOffset.UtcNow);

        Assert.Equal(string.Empty, output.ToString());
    }

    private static SidecarConfig Parse(string yaml)
    {
        var result = SidecarConfigLoader.Parse(yaml, "config/tls.yaml");
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        return result.Config!;
    }
}
