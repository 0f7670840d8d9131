using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Sidecar.FunctionalTests.TestSupport;

/// <summary>
/// The real <c>sidecar</c> executable as a child process: the built <c>sidecar.dll</c> run by <c>dotnet</c>, or the
/// executable named by <c>SIDECAR_TEST_EXECUTABLE</c> (tests/packaging/check.sh points it at the Native AOT build and
/// runs the tests in <see cref="Category"/>, so the shipped binary passes the same tests as the JIT build).
/// </summary>
public sealed partial class SidecarProcess : IDisposable
{
    /// <summary>The xunit trait of every test that runs the real executable: <c>[Trait("Category", SidecarProcess.Category)]</c>.</summary>
    public const string Category = "Process";

    private readonly Process _process;

    private SidecarProcess(Process process) => _process = process;

    public ConcurrentQueue<string> Output { get; } = new();

    public ConcurrentQueue<string> Errors { get; } = new();

    public int Id => _process.Id;

    public static SidecarProcess Start(params string[] args) => Start(environment: null, args);

    /// <summary>
    /// Starts <c>sidecar</c> with <paramref name="args"/> and extra environment variables (e.g. <c>OTEL_*</c>,
    /// <c>SIDECAR_LOG_FORMAT</c>), which only this child process sees. Inherited <c>OTEL_*</c>, <c>SIDECAR_LOG_*</c>
    /// and <c>Logging__*</c> variables are removed so that the test alone decides what is exported and logged.
    /// </summary>
    public static SidecarProcess Start(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartIn(Path.GetTempPath(), environment, args);

    /// <summary>As <see cref="Start(IReadOnlyDictionary{string, string}?, string[])"/>, in <paramref name="workingDirectory"/>.</summary>
    public static SidecarProcess StartIn(string workingDirectory, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        StartIn(workingDirectory, environment, unset: [], args);

    /// <summary>
    /// As <see cref="StartIn(string, IReadOnlyDictionary{string, string}?, string[])"/>, with the variables named in
    /// <paramref name="unset"/> removed from the inherited environment (<c>HOME</c>: a container's user may have none).
    /// </summary>
    public static SidecarProcess StartIn(string workingDirectory, IReadOnlyDictionary<string, string>? environment, IReadOnlyCollection<string> unset, params string[] args)
    {
        var executable = Environment.GetEnvironmentVariable("SIDECAR_TEST_EXECUTABLE");
        var info = new ProcessStartInfo(string.IsNullOrEmpty(executable) ? "dotnet" : executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        if (string.IsNullOrEmpty(executable))
        {
            info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sidecar.dll"));
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("SIDECAR_CONFIG");
        info.Environment.Remove("SIDECAR_LOG_FORMAT");
        info.Environment.Remove("SIDECAR_LOG_LEVEL");
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("OTEL_", StringComparison.Ordinal) || k.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var name in unset)
        {
            info.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var wrapper = new SidecarProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                wrapper.Output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                wrapper.Errors.Enqueue(e.Data);
            }
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return wrapper;
    }

    /// <summary>Runs to completion (bounded) and returns the exit code.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Start(args);
        var code = await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return (code, string.Join('\n', process.Output), string.Join('\n', process.Errors));
    }

    public async Task<int> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        // The parameterless wait also drains the redirected output.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits for the "listening" log line and returns the proxy and admin addresses it names.</summary>
    public async Task<(Uri Proxy, Uri Admin)> WaitUntilListeningAsync(TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (DateTime.UtcNow < deadline && !_process.HasExited)
        {
            foreach (var line in Output)
            {
                var match = ListeningLine().Match(line);
                if (match.Success)
                {
                    return (new Uri(match.Groups[1].Value), new Uri(match.Groups[2].Value));
                }
            }

            await Task.Delay(25);
        }

        throw new TimeoutException("sidecar did not log that it listens:\n" + string.Join('\n', Output) + "\n" + string.Join('\n', Errors));
    }

    public void Signal(int signal) => _ = Kill(_process.Id, signal);

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [GeneratedRegex(@"listening on (http://\S+), admin on (http://\S+) ")]
    private static partial Regex ListeningLine();
}
