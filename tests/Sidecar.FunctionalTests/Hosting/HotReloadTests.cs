using System.Net;
using Sidecar.FunctionalTests.TestSupport;

namespace Sidecar.FunctionalTests.Hosting;

public sealed class HotReloadTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reload_FileReplacedByRenameOrWrittenInPlace_NewRouteServed(bool atomic)
    {
        using var upstream = ScriptedUpstream.Status(200, "hello");
        var yaml = $$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            routes:
              - name: old
                match: { path: "/old/{**rest}" }
                cluster: app
            """;
        await using var sidecar = await RunningSidecar.StartAsync(yaml, reloadInterval: TimeSpan.FromMilliseconds(500));
        using (var before = await sidecar.Proxy.GetAsync("/new/x"))
        {
            Assert.Equal(HttpStatusCode.NotFound, before.StatusCode);
        }

        var rewritten = sidecar.Yaml.Replace("/old/", "/new/", StringComparison.Ordinal);
        if (atomic)
        {
            // What README asks of writers: a new file renamed over the old one.
            var temp = sidecar.ConfigPath + ".tmp";
            await File.WriteAllTextAsync(temp, rewritten);
            File.Move(temp, sidecar.ConfigPath, overwrite: true);
        }
        else
        {
            await File.WriteAllTextAsync(sidecar.ConfigPath, rewritten);
        }

        var status = await Eventually.ReturnsAsync(
            async () => (await sidecar.Proxy.GetAsync("/new/x")).StatusCode,
            s => s == HttpStatusCode.OK,
            TimeSpan.FromSeconds(10),
            "serving the new route");
        Assert.Equal(HttpStatusCode.OK, status);
        await Eventually.ReturnsAsync(() => Task.FromResult(sidecar.Logs.Contains("Reloaded")), found => found, TimeSpan.FromSeconds(10), "the reload log line");
    }

    [Fact]
    public async Task Reload_KubernetesSymlinkSwap_IsPickedUp()
    {
        using var first = ScriptedUpstream.Status(200, "first");
        using var second = ScriptedUpstream.Status(200, "second");
        string Config(string url) => $$"""
            clusters:
              app: { destinations: [{{url}}] }
            routes:
              - name: all
                match: { path: "/{**rest}" }
                cluster: app
            """;

        // Lay the folder out the way the kubelet does: sidecar.yaml -> ..data/sidecar.yaml, ..data -> ..<timestamp>.
        var root = Directory.CreateTempSubdirectory("sidecar-cm-").FullName;
        var yaml1 = "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n" + Config(first.Url);
        Directory.CreateDirectory(Path.Combine(root, "..v1"));
        await File.WriteAllTextAsync(Path.Combine(root, "..v1", "sidecar.yaml"), yaml1);
        File.CreateSymbolicLink(Path.Combine(root, "..data"), "..v1");
        File.CreateSymbolicLink(Path.Combine(root, "sidecar.yaml"), Path.Combine("..data", "sidecar.yaml"));

        var result = Sidecar.Configuration.SidecarConfigLoader.LoadFile(Path.Combine(root, "sidecar.yaml"));
        Assert.True(result.Succeeded, string.Join('\n', result.Errors));
        await using var host = await Sidecar.Hosting.SidecarHost.StartAsync(result.Config!, new Sidecar.Hosting.SidecarHostOptions
        {
            ConfigPath = Path.Combine(root, "sidecar.yaml"),
            ConfigText = yaml1,
            ReloadInterval = TimeSpan.FromMilliseconds(500),
        });
        using var client = new HttpClient { BaseAddress = host.ProxyAddress };
        Assert.Equal("first", await client.GetStringAsync("/x"));

        Directory.CreateDirectory(Path.Combine(root, "..v2"));
        await File.WriteAllTextAsync(Path.Combine(root, "..v2", "sidecar.yaml"), "listen:\n  proxy: http://127.0.0.1:0\n  admin: http://127.0.0.1:0\n" + Config(second.Url));
        File.CreateSymbolicLink(Path.Combine(root, "..data_tmp"), "..v2");
        Assert.Equal(0, Rename(Path.Combine(root, "..data_tmp"), Path.Combine(root, "..data")));
        Directory.Delete(Path.Combine(root, "..v1"), recursive: true);

        var body = await Eventually.ReturnsAsync(() => client.GetStringAsync("/x"), b => b == "second", TimeSpan.FromSeconds(5), "serving the swapped config");
        Assert.Equal("second", body);
    }

    [Fact]
    public async Task Reload_BadFile_KeepsServingLastGoodConfigAndLogsTheError()
    {
        using var upstream = ScriptedUpstream.Status(200, "still here");
        var yaml = $$"""
            clusters:
              app: { destinations: [{{upstream.Url}}] }
            routes:
              - name: all
                match: { path: "/{**rest}" }
                cluster: app
            """;
        await using var sidecar = await RunningSidecar.StartAsync(yaml);
        Assert.Equal("still here", await sidecar.Proxy.GetStringAsync("/a"));

        await File.WriteAllTextAsync(sidecar.ConfigPath, sidecar.Yaml.Replace("cluster: app", "cluster: nope", StringComparison.Ordinal));

        await Eventually.ReturnsAsync(() => Task.FromResult(sidecar.Logs.Contains("unknown cluster 'nope'")), found => found, TimeSpan.FromSeconds(5), "the rejection log line");
        var line = sidecar.Logs.GetSnapshot().First(l => l.Message.Contains("unknown cluster 'nope'", StringComparison.Ordinal));
        Assert.Contains(sidecar.ConfigPath + ":", line.Message, StringComparison.Ordinal);
        Assert.Contains("routes[0].cluster", line.Message, StringComparison.Ordinal);
        Assert.Equal("still here", await sidecar.Proxy.GetStringAsync("/b"));
    }

    // rename(2) replaces the ..data link atomically, as the kubelet's atomic writer does.
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int Rename(string oldPath, string newPath);
}
