using Sidecar.Configuration;
using Sidecar.Tests.TestSupport;

namespace Sidecar.Tests.Configuration;

/// <summary><c>clusters.X.tls</c> and <c>listen.tls</c>: the files are checked at load and each problem is located at the key that names the file.</summary>
public sealed class TlsConfigTests : IDisposable
{
    private readonly PemFolder _pem = new();

    public void Dispose() => _pem.Dispose();

    [Fact]
    public void Parse_ClusterTlsWithEveryKey_Binds()
    {
        var (cert, key) = _pem.Pair("client", traditional: true);

        var result = Parse(Cluster("https://payments.internal:8443", $"ca_file: {_pem.CaFile}\n      cert_file: {cert}\n      key_file: {key}\n      server_name: payments.internal\n      min_version: \"1.3\"\n      insecure_skip_verify: false"));

        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        var tls = result.Config!.Clusters["payments"].Tls!;
        Assert.Equal(_pem.CaFile, tls.CaFile);
        Assert.Equal(cert, tls.CertFile);
        Assert.Equal("payments.internal", tls.ServerName);
        Assert.Equal(TlsMinVersion.Tls13, tls.MinVersion);
    }

    [Fact]
    public void Parse_MissingCaFile_ErrorAtCaFile()
    {
        var missing = System.IO.Path.Combine(_pem.Path, "nope.crt");

        var error = Assert.Single(Parse(Cluster("https://p:8443", $"ca_file: {missing}")).Errors);

        Assert.Equal("clusters.payments.tls.ca_file", error.KeyPath);
        Assert.Equal($"file not found: '{missing}'", error.Message);
    }

    [Fact]
    public void Parse_CaFileNotPem_ErrorSaysSo()
    {
        var garbage = _pem.Write("garbage.crt", "not a certificate");

        var error = Assert.Single(Parse(Cluster("https://p:8443", $"ca_file: {garbage}")).Errors);

        Assert.Equal($"no certificate in '{garbage}': expected a PEM 'CERTIFICATE' block", error.Message);
    }

    [Fact]
    public void Parse_KeyOfAnotherCertificate_ErrorAtKeyFile()
    {
        var (cert, _) = _pem.Pair("client");
        var (_, otherKey) = _pem.Pair("other");

        var error = Assert.Single(Parse(Cluster("https://p:8443", $"cert_file: {cert}\n      key_file: {otherKey}")).Errors);

        Assert.Equal("clusters.payments.tls.key_file", error.KeyPath);
        Assert.Equal($"the key in '{otherKey}' does not match the certificate in '{cert}' (CN=client)", error.Message);
    }

    [Fact]
    public void Parse_ExpiredCertificate_ErrorSaysWhen()
    {
        var (cert, key) = _pem.Pair("old", notAfter: DateTimeOffset.UtcNow.AddDays(-1));

        var error = Assert.Single(Parse(Cluster("https://p:8443", $"cert_file: {cert}\n      key_file: {key}")).Errors);

        Assert.Equal("clusters.payments.tls.cert_file", error.KeyPath);
        Assert.StartsWith($"the certificate in '{cert}' expired at ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_CertFileWithoutKeyFile_Error()
    {
        var (cert, _) = _pem.Pair("client");

        var error = Assert.Single(Parse(Cluster("https://p:8443", $"cert_file: {cert}")).Errors);

        Assert.Equal("clusters.payments.tls.key_file", error.KeyPath);
    }

    [Fact]
    public void Parse_TlsOnAClusterOfHttpDestinations_Error()
    {
        var error = Assert.Single(Parse(Cluster("http://p:8080", $"ca_file: {_pem.CaFile}")).Errors);

        Assert.Equal("clusters.payments.tls", error.KeyPath);
        Assert.Contains("every destination of this cluster is http://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RelativePath_ResolvedAgainstTheConfigFilesFolder()
    {
        var file = _pem.Write("sidecar.yaml", Cluster("https://p:8443", "ca_file: ca.crt"));

        var result = SidecarConfigLoader.LoadFile(file);

        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        Assert.Equal(_pem.CaFile, result.Config!.Clusters["payments"].Tls!.CaFile);
    }

    [Fact]
    public void Parse_HttpsProxyWithoutListenTls_Error()
    {
        var error = Assert.Single(Parse("listen: { proxy: https://127.0.0.1:8443 }\n" + Cluster("http://p:8080", tls: null)).Errors);

        Assert.Equal("listen.proxy", error.KeyPath);
        Assert.Equal("an https:// address needs a certificate: add tls: { cert_file, key_file } under listen, or listen on http://", error.Message);
    }

    [Fact]
    public void Parse_ListenTlsWithHttpProxy_Error()
    {
        var (cert, key) = _pem.Pair("listener");

        var error = Assert.Single(Parse($"listen:\n  proxy: http://127.0.0.1:8080\n  tls: {{ cert_file: {cert}, key_file: {key} }}\n" + Cluster("http://p:8080", tls: null)).Errors);

        Assert.Equal("listen.tls", error.KeyPath);
    }

    [Fact]
    public void Parse_HttpsProxyWithListenTls_Binds()
    {
        var (cert, key) = _pem.Pair("listener");

        var result = Parse($"listen:\n  proxy: https://127.0.0.1:8443\n  tls: {{ cert_file: {cert}, key_file: {key}, client_ca_file: {_pem.CaFile} }}\n" + Cluster("http://p:8080", tls: null));

        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        Assert.Equal(_pem.CaFile, result.Config!.Listen.Tls!.ClientCaFile);
    }

    [Fact]
    public void Parse_HttpsAdminAddress_Error()
    {
        var error = Assert.Single(Parse("listen: { admin: https://127.0.0.1:9901 }\n" + Cluster("http://p:8080", tls: null)).Errors);

        Assert.Equal("listen.admin", error.KeyPath);
    }

    private static ConfigLoadResult Parse(string yaml) => SidecarConfigLoader.Parse(yaml, "config/tls.yaml");

    private static string Cluster(string destination, string? tls) => $$"""
        clusters:
          payments:
            destinations: [{{destination}}]
        {{(tls is null ? string.Empty : "    tls:\n      " + tls)}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: payments
        """;
}
