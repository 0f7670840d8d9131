using System.Net;
using System.Text.Json;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Tls;

/// <summary>
/// A cluster's <c>tls</c> against real Kestrel https upstreams whose certificates come from a CA made in the test:
/// a private CA trusted for one cluster, certificate failures answered at once (no retry) with a 502 that names the
/// cause and the destination, mTLS, and <c>server_name</c> for a destination given by IP.
/// </summary>
public sealed class UpstreamTlsTests : IDisposable
{
    private readonly TestCertificates _certificates = TestCertificates.Create("Corp Root");

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task PrivateCa_TrustedForTheCluster_Answers200()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("client=none", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task UntrustedCertificate_OneAttempt_502NamesIssuerAndDestination()
    {
        using var other = TestCertificates.Create("Other Root");
        await using var upstream = await TlsUpstream.StartAsync(other.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        var problem = await ProblemAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal($"certificate of localhost:{upstream.Port} is not trusted: issuer CN=Other Root", problem.GetProperty("detail").GetString());
        Assert.Equal(1, problem.GetProperty("attempts").GetInt32());
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("x-sidecar-attempts")));
        Assert.Equal(0, upstream.Count);
        Assert.Contains(sidecar.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("is not trusted: issuer CN=Other Root", StringComparison.Ordinal));
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Contains("sidecar_upstream_attempts_total{cluster=\"payments\",result=\"tls\",route=\"r\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SystemTrustOnly_PrivateCaCertificate_IsATlsFailureNotAConnectFailure()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", tls: null));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        var problem = await ProblemAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal($"certificate of localhost:{upstream.Port} is not trusted: issuer CN=Corp Root", problem.GetProperty("detail").GetString());
        Assert.Equal(1, problem.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task NameMismatch_502SaysWhichNamesTheCertificateIsFor()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("billing.internal", withLoopbackIp: false));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        var problem = await ProblemAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal($"certificate of localhost:{upstream.Port} does not match the name 'localhost' (it is for DNS:billing.internal)", problem.GetProperty("detail").GetString());
        Assert.Equal(1, problem.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task ExpiredCertificate_502SaysWhen()
    {
        var expired = _certificates.Server("localhost", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        await using var upstream = await TlsUpstream.StartAsync(expired);
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        var detail = (await ProblemAsync(response)).GetProperty("detail").GetString();
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.StartsWith($"certificate of localhost:{upstream.Port} expired at ", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsInRetryOnErrors_CertificateFailureIsRetried()
    {
        using var other = TestCertificates.Create("Other Root");
        await using var upstream = await TlsUpstream.StartAsync(other.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}", errors: "[connect-failure, tls]"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(3, (await ProblemAsync(response)).GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task MutualTls_ClientCertificateGiven_UpstreamSeesIt()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), requireClientCertificateFrom: _certificates.Authority);
        var (certFile, keyFile) = _certificates.WritePem(_certificates.Client("orders-sidecar"), "client");
        await using var sidecar = await RunningSidecar.StartAsync(Config(
            $"https://localhost:{upstream.Port}",
            $"ca_file: {_certificates.CaFile}\n      cert_file: {certFile}\n      key_file: {keyFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("client=orders-sidecar", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MutualTls_ClientCertificateFromAnIntermediate_SendsTheChainOfCertFile()
    {
        // The upstream trusts only the root: the intermediate after the leaf in cert_file must go out with it.
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), requireClientCertificateFrom: _certificates.Authority);
        using var intermediate = _certificates.Intermediate("Corp Issuing CA");
        using var client = _certificates.Client("orders-sidecar", issuer: intermediate);
        var (certFile, keyFile) = _certificates.WritePem(client, "client", intermediate);
        await using var sidecar = await RunningSidecar.StartAsync(Config(
            $"https://localhost:{upstream.Port}",
            $"ca_file: {_certificates.CaFile}\n      cert_file: {certFile}\n      key_file: {keyFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("client=orders-sidecar", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MutualTls_NoClientCertificate_502IsATlsFailure()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), requireClientCertificateFrom: _certificates.Authority);
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        var problem = await ProblemAsync(response);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal($"localhost:{upstream.Port} requires a client certificate and the cluster has none (set tls.cert_file and tls.key_file)", problem.GetProperty("detail").GetString());
        Assert.Equal(1, problem.GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task ServerName_IpDestination_VerifiesAndSendsTheName()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("payments.internal", withLoopbackIp: false));
        await using var sidecar = await RunningSidecar.StartAsync(Config(
            $"https://127.0.0.1:{upstream.Port}",
            $"ca_file: {_certificates.CaFile}\n      server_name: payments.internal"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.EndsWith($";host=payments.internal:{upstream.Port}", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("payments.internal", upstream.ServerNames);
    }

    [Fact]
    public async Task Http2OverTls_NegotiatedByAlpn()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), http2Only: true);
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", $"ca_file: {_certificates.CaFile}", protocol: "http2"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(";protocol=HTTP/2;", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConfigReload_AddsTheCa_NewClientTrustsIt()
    {
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", "min_version: \"1.2\""));
        using (var before = await sidecar.Proxy.GetAsync("/pay"))
        {
            Assert.Equal(HttpStatusCode.BadGateway, before.StatusCode);
        }

        var temp = sidecar.ConfigPath + ".tmp";
        await File.WriteAllTextAsync(temp, sidecar.Yaml.Replace("min_version: \"1.2\"", $"ca_file: {_certificates.CaFile}", StringComparison.Ordinal));
        File.Move(temp, sidecar.ConfigPath, overwrite: true);

        var status = await Eventually.ReturnsAsync(
            async () => (await sidecar.Proxy.GetAsync("/pay")).StatusCode,
            s => s == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30),
            "the reloaded cluster trusting the CA");
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task InsecureSkipVerify_AnyCertificateAccepted_WarnedAndShownInConfig()
    {
        using var other = TestCertificates.Create("Other Root");
        await using var upstream = await TlsUpstream.StartAsync(other.Server("elsewhere", withLoopbackIp: false));
        await using var sidecar = await RunningSidecar.StartAsync(Config($"https://localhost:{upstream.Port}", "insecure_skip_verify: true"));

        using var response = await sidecar.Proxy.GetAsync("/pay");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(sidecar.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("insecure_skip_verify is true", StringComparison.Ordinal));
        using var config = JsonDocument.Parse(await sidecar.Admin.GetStringAsync("/config"));
        Assert.True(config.RootElement.GetProperty("clusters").GetProperty("payments").GetProperty("tls").GetProperty("insecure_skip_verify").GetBoolean());
    }

    internal static string Config(string destination, string? tls, string errors = "[connect-failure, reset]", string protocol = "auto") => $$"""
        clusters:
          payments:
            destinations: [{{destination}}]
            protocol: {{protocol}}
        {{(tls is null ? string.Empty : "    tls:\n      " + tls)}}
        policies:
          p:
            max_attempts: 3
            backoff: { algorithm: constant, base: 1ms, max: 1ms, jitter: none }
            retry_on: { status: [503], errors: {{errors}} }
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: payments
            policy: p
        """;

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }
}
