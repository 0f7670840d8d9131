using System.Net;
using System.Net.Sockets;
using Sidecar.Configuration;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar health</c>: asks a running Sidecar's admin <c>/readyz</c>, at the admin address of the config that
/// <c>run</c> would load, and exits 0 when it answers 200, 1 otherwise, with one line either way. It is the container
/// image's HEALTHCHECK: the executable probes itself, so the image needs no shell or curl.
/// </summary>
internal static class HealthCommand
{
    /// <summary>Below the Dockerfile's <c>HEALTHCHECK --timeout=3s</c>, so a hung admin port is reported by us, not killed.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public const string ReadinessPath = "/readyz";

    public static async Task<int> RunAsync(string? configPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var (result, path, _) = ConfigSource.Load(configPath);
        if (!result.Succeeded)
        {
            await error.WriteLineAsync($"sidecar health: {path ?? ConfigSource.EmbeddedName}: {result.Errors.Count} config error(s), first: {result.Errors[0]}");
            return 1;
        }

        if (ProbeAddress(result.Config!.Listen.Admin) is not { } url)
        {
            await error.WriteLineAsync($"sidecar health: {ListenKeys.Admin} {UrlRedaction.Redact(result.Config.Listen.Admin)} has no fixed port to ask");
            return 1;
        }

        // No proxy from the environment: the admin port is local, and HTTP_PROXY set for the application must not
        // send the probe elsewhere.
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false }) { Timeout = Timeout };
        try
        {
            using var response = await client.GetAsync(url, cancellationToken);
            var body = (await response.Content.ReadAsStringAsync(cancellationToken)).Trim();
            if (response.StatusCode == HttpStatusCode.OK)
            {
                await output.WriteLineAsync($"sidecar health: {url} {(int)response.StatusCode} {body}");
                return 0;
            }

            await error.WriteLineAsync($"sidecar health: {url} {(int)response.StatusCode} {body}");
            return 1;
        }
        catch (HttpRequestException ex)
        {
            await error.WriteLineAsync($"sidecar health: {url} unreachable: {(ex.InnerException as SocketException)?.Message ?? ex.Message}");
            return 1;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"sidecar health: {url} no answer within {DurationParser.Format(Timeout)}");
            return 1;
        }
    }

    /// <summary>
    /// The URL to ask for readiness on an admin listen address: a wildcard host is asked on the loopback of the same
    /// family (the probe runs beside the process, in its network namespace); port 0 has no fixed port, so null.
    /// </summary>
    public static Uri? ProbeAddress(string adminAddress)
    {
        var admin = new Uri(adminAddress, UriKind.Absolute);
        if (admin.Port == 0)
        {
            return null;
        }

        var host = admin.Host switch
        {
            "0.0.0.0" or "*" or "+" => "127.0.0.1",
            "[::]" or "::" => "[::1]",
            var other => other,
        };
        return new UriBuilder(Uri.UriSchemeHttp, host, admin.Port, ReadinessPath).Uri;
    }
}
