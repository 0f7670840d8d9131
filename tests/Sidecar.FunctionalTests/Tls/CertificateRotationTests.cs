using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Tls;

/// <summary>
/// Certificate files replaced the way a Kubernetes Secret volume replaces them (cert-manager writes a new
/// <c>..2026_xx</c> folder and swaps the <c>..data</c> symlink; <c>tls.crt</c> links to <c>..data/tls.crt</c>) are
/// picked up without a restart: under load no request fails, and new connections present the new certificate.
/// A swap to files that do not load keeps the last good certificate, logs a Warning and counts a failure.
/// </summary>
public sealed class CertificateRotationTests : IDisposable
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private readonly TestCertificates _certificates = TestCertificates.Create("Rotation Root");

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task ClientCertificateSwappedBySymlink_UnderLoad_NoRequestFailsAndNewConnectionsUseIt()
    {
        var volume = SecretVolume.Create(_certificates, _certificates.Client("generation-1"));
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), requireClientCertificateFrom: _certificates.Authority, closeEachConnection: true);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Port, volume));
        using var load = new CancellationTokenSource();
        var seen = new SeenGenerations();
        var workers = Enumerable.Range(0, 4).Select(_ => Task.Run(() => LoadAsync(sidecar.Proxy, seen, load.Token))).ToArray();
        await seen.FirstAsync("generation-1").WaitAsync(Guard);

        var swapped = Stopwatch.StartNew();
        volume.Swap(_certificates.Client("generation-2"));
        await seen.FirstAsync("generation-2").WaitAsync(Guard);
        var untilUsed = swapped.Elapsed;
        await seen.MoreAsync(200).WaitAsync(Guard);
        await load.CancelAsync();
        await Task.WhenAll(workers);

        Assert.Equal(0, seen.Failures);
        Assert.True(seen.Requests > 0);
        Console.WriteLine($"rotation under load: {seen.Requests} requests, {seen.Failures} failed, new certificate in use {untilUsed.TotalMilliseconds:F0} ms after the swap");
        var metrics = await sidecar.Admin.GetStringAsync("/metrics");
        Assert.Contains("sidecar_tls_reloads_total{cluster=\"payments\",result=\"success\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_tls_certificate_expiry_timestamp_seconds{cluster=\"payments\",kind=\"certificate\"}", metrics, StringComparison.Ordinal);
        Assert.Contains("sidecar_tls_certificate_expiry_timestamp_seconds{cluster=\"payments\",kind=\"ca\"}", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokenFilesSwappedIn_KeepTheLastGoodCertificate_WarnAndCountAFailure()
    {
        var volume = SecretVolume.Create(_certificates, _certificates.Client("good"));
        await using var upstream = await TlsUpstream.StartAsync(_certificates.Server("localhost"), requireClientCertificateFrom: _certificates.Authority, closeEachConnection: true);
        await using var sidecar = await RunningSidecar.StartAsync(Config(upstream.Port, volume));
        using (var before = await sidecar.Proxy.GetAsync("/pay"))
        {
            Assert.StartsWith("client=good", await before.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        volume.SwapBroken(_certificates.Client("bad"));
        await Eventually.ReturnsAsync(
            () => sidecar.Admin.GetStringAsync("/metrics"),
            text => text.Contains("sidecar_tls_reloads_total{cluster=\"payments\",result=\"failure\"} 1", StringComparison.Ordinal),
            Guard,
            "a failed rotation counted");

        using var after = await sidecar.Proxy.GetAsync("/pay");
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.StartsWith("client=good", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains(sidecar.Logs.GetSnapshot(), r => r.Level == LogLevel.Warning && r.Message.Contains("keeping the last good certificates", StringComparison.Ordinal) && r.Message.Contains("does not match", StringComparison.Ordinal));
    }

    private static string Config(int port, SecretVolume volume) => $$"""
        clusters:
          payments:
            destinations: [https://localhost:{{port}}]
            tls:
              ca_file: {{volume.CaFile}}
              cert_file: {{volume.CertFile}}
              key_file: {{volume.KeyFile}}
        routes:
          - name: r
            match: { path: "/{**rest}" }
            cluster: payments
        """;

    private static async Task LoadAsync(HttpClient proxy, SeenGenerations seen, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                using var response = await proxy.GetAsync("/pay", CancellationToken.None);
                var body = await response.Content.ReadAsStringAsync(CancellationToken.None);
                seen.Record(response.StatusCode == HttpStatusCode.OK ? body : null);
            }
            catch (HttpRequestException)
            {
                seen.Record(null);
            }
        }
    }

    /// <summary>What the load saw: requests, failures, and the first sighting of each client certificate name.</summary>
    private sealed class SeenGenerations
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, TaskCompletionSource> _first = new(StringComparer.Ordinal);
        private readonly List<(int Target, TaskCompletionSource Reached)> _counts = [];
        private int _requests;
        private int _failures;

        public int Requests => Volatile.Read(ref _requests);

        public int Failures => Volatile.Read(ref _failures);

        public void Record(string? body)
        {
            lock (_lock)
            {
                _requests++;
                if (body is null || !body.StartsWith("client=", StringComparison.Ordinal))
                {
                    _failures++;
                }
                else
                {
                    Source(body["client=".Length..body.IndexOf(';', StringComparison.Ordinal)]).TrySetResult();
                }

                foreach (var (target, reached) in _counts)
                {
                    if (_requests >= target)
                    {
                        reached.TrySetResult();
                    }
                }
            }
        }

        public Task FirstAsync(string name)
        {
            lock (_lock)
            {
                return Source(name).Task;
            }
        }

        /// <summary>Completes once <paramref name="more"/> further requests have finished.</summary>
        public Task MoreAsync(int more)
        {
            lock (_lock)
            {
                var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _counts.Add((_requests + more, reached));
                return reached.Task;
            }
        }

        private TaskCompletionSource Source(string name)
        {
            if (!_first.TryGetValue(name, out var source))
            {
                _first[name] = source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            return source;
        }
    }

    /// <summary>A folder laid out as kubelet lays out a Secret volume: data in <c>..&lt;timestamp&gt;</c>, <c>..data</c> linking to it, the file names linking through <c>..data</c>.</summary>
    private sealed class SecretVolume
    {
        private readonly string _root;
        private readonly TestCertificates _certificates;
        private int _generation;

        private SecretVolume(string root, TestCertificates certificates)
        {
            _root = root;
            _certificates = certificates;
        }

        public string CaFile => Path.Combine(_root, "ca.crt");

        public string CertFile => Path.Combine(_root, "tls.crt");

        public string KeyFile => Path.Combine(_root, "tls.key");

        public static SecretVolume Create(TestCertificates certificates, System.Security.Cryptography.X509Certificates.X509Certificate2 client)
        {
            var root = Path.Combine(certificates.Directory, "secret");
            Directory.CreateDirectory(root);
            var volume = new SecretVolume(root, certificates);
            volume.Swap(client);
            foreach (var name in (string[])["ca.crt", "tls.crt", "tls.key"])
            {
                File.CreateSymbolicLink(Path.Combine(root, name), Path.Combine("..data", name));
            }

            return volume;
        }

        /// <summary>Writes a new generation and swaps <c>..data</c> to it atomically (a rename over the old link).</summary>
        public void Swap(System.Security.Cryptography.X509Certificates.X509Certificate2 client, bool breakKey = false)
        {
            var generation = Path.Combine(_root, $"..gen_{++_generation}");
            Directory.CreateDirectory(generation);
            File.Copy(_certificates.CaFile, Path.Combine(generation, "ca.crt"));
            var (certFile, keyFile) = _certificates.WritePem(client, $"client-{_generation}");
            File.Copy(certFile, Path.Combine(generation, "tls.crt"));
            if (breakKey)
            {
                // Another certificate's key: the pair no longer matches.
                var (_, otherKey) = _certificates.WritePem(_certificates.Client("other"), $"other-{_generation}");
                File.Copy(otherKey, Path.Combine(generation, "tls.key"));
            }
            else
            {
                File.Copy(keyFile, Path.Combine(generation, "tls.key"));
            }

            var link = Path.Combine(_root, "..data_tmp");
            File.CreateSymbolicLink(link, Path.GetFileName(generation));
            // rename(2) replaces the old link in one step, as kubelet does; .NET's File.Move refuses a link to a folder.
            if (Rename(link, Path.Combine(_root, "..data")) != 0)
            {
                throw new IOException($"rename failed: errno {Marshal.GetLastPInvokeError()}");
            }
        }

        [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        private static extern int Rename([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

        public void SwapBroken(System.Security.Cryptography.X509Certificates.X509Certificate2 client) => Swap(client, breakKey: true);
    }
}
