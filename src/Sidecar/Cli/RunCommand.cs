using System.Runtime.InteropServices;
using Sidecar.Hosting;

namespace Sidecar.Cli;

/// <summary><c>sidecar run</c>: load and validate the config (exit 1 before anything listens if it is bad), serve, drain on SIGTERM.</summary>
internal static class RunCommand
{
    public static async Task<int> RunAsync(string? configPath, bool jsonLogs, CancellationToken cancellationToken)
    {
        var (result, path, text) = ConfigSource.Load(configPath);
        if (!result.Succeeded)
        {
            ValidateCommand.WriteErrors(result, Console.Error);
            return 1;
        }

        var options = new SidecarHostOptions
        {
            ConfigPath = path,
            ConfigText = text,
            JsonLogs = jsonLogs || string.Equals(Environment.GetEnvironmentVariable("SIDECAR_LOG_FORMAT"), "json", StringComparison.OrdinalIgnoreCase),
        };

        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);

        SidecarHost host;
        try
        {
            host = await SidecarHost.StartAsync(result.Config!, options, shutdown.Token);
        }
        catch (IOException ex)
        {
            // Typically "address already in use".
            await Console.Error.WriteLineAsync($"sidecar: cannot listen: {ex.Message}");
            return 1;
        }

        await using (host)
        {
            try
            {
                await Task.Delay(Timeout.Infinite, shutdown.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await host.DrainAndStopAsync();
        }

        return 0;

        void Handle(PosixSignalContext context)
        {
            // Keep the runtime from exiting at once: the drain decides when the process ends.
            context.Cancel = true;
            shutdown.Cancel();
        }
    }
}
