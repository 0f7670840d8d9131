using Sidecar.Cli;
using Sidecar.Configuration;

namespace Sidecar.Tests.Configuration;

/// <summary>
/// A destination may carry a credential (<c>http://user:token@host</c>): no output of Sidecar shows it. The cases run
/// through <see cref="UrlRedaction"/> itself, the configuration errors a user sees (and a reload logs), and
/// <c>sidecar validate</c>.
/// </summary>
public sealed class UrlRedactionTests
{
    private const string Secret = "tok3n";

    [Theory]
    [InlineData("http://user:tok3n@orders:8080", "http://REDACTED@orders:8080")]
    [InlineData("https://tok3n@orders/base", "https://REDACTED@orders/base")]
    [InlineData("http://orders:8080/?key=tok3n", "http://orders:8080/?REDACTED")]
    [InlineData("http://user:tok3n@orders:8080/p?key=tok3n", "http://REDACTED@orders:8080/p?REDACTED")]
    [InlineData("http://orders:8080", "http://orders:8080")]
    [InlineData("http://Orders:80/", "http://Orders:80/")]
    [InlineData("http://*:8080", "http://*:8080")]
    [InlineData("user:tok3n@orders:8080", "REDACTED@orders:8080")]
    [InlineData("htp//user:tok3n@orders/x?key=tok3n#f", "REDACTED@orders/x?REDACTED#f")]
    [InlineData("http://user:tok3n@[::1", "http://REDACTED@[::1")]
    [InlineData("/relative/path", "/relative/path")]
    [InlineData("", "")]
    public void Redact_Url_HidesUserInfoAndQuery(string url, string expected)
    {
        Assert.Equal(expected, UrlRedaction.Redact(url));
    }

    [Theory]
    [InlineData("[\"http://user:tok3n@orders:8080/?a=tok3n\"]")]
    [InlineData("[\"ftp://user:tok3n@orders\"]")]
    [InlineData("[\"user:tok3n@orders:8080\"]")]
    [InlineData("[\"http://user:tok3n@orders:8080\", \"http://user:tok3n@orders:8080\"]")]
    public void Parse_BadDestinationWithCredentials_ErrorNeverShowsThem(string destinations)
    {
        var result = SidecarConfigLoader.Parse($$"""
            clusters:
              orders: { destinations: {{destinations}} }
            routes:
              - name: r
                cluster: orders
            """, "sidecar.yaml");

        var error = Assert.Single(result.Errors).ToString();
        Assert.Contains("destination", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error, StringComparison.Ordinal);
        Assert.Contains(UrlRedaction.Redacted, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ListenAddressWithCredentials_ErrorNeverShowsThem()
    {
        var result = SidecarConfigLoader.Parse("""
            listen: { proxy: "http://user:tok3n@127.0.0.1:8080" }
            clusters:
              orders: { destinations: [http://orders:8080] }
            routes:
              - name: r
                cluster: orders
            """, "sidecar.yaml");

        var error = Assert.Single(result.Errors).ToString();
        Assert.Contains("user info is not allowed", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateRun_DestinationWithCredentials_PrintsItRedacted()
    {
        var path = Path.Combine(Path.GetTempPath(), $"sidecar-redact-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            clusters:
              orders: { destinations: ["http://svc:tok3n@orders:8080/base", "http://orders-2:8080"] }
            routes:
              - name: r
                match: { path: "/{**rest}" }
                cluster: orders
            """);
        try
        {
            using var output = new StringWriter();
            using var error = new StringWriter();

            var exitCode = ValidateCommand.Run(path, output, error);

            Assert.Equal(0, exitCode);
            Assert.DoesNotContain(Secret, output.ToString() + error, StringComparison.Ordinal);
            Assert.Contains("-> cluster orders (http://REDACTED@orders:8080/base, http://orders-2:8080)", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
