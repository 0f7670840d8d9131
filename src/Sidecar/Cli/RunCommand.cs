using System.Runtime.InteropServices;
using Sidecar.Hosting;
using Sidecar.Logging;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar run</c>: check the log level and load the config (exit 1 before anything listens if either is bad),
/// serve, drain on SIGTERM.
/// </summary>
internal static class RunCommand
{
    public static async Task<int> RunAsync(string? configPath, bool jsonLogs, LogLevel? logLevel, CancellationToken cancellationToken)
    {
        if (logLevel is null && Environment.GetEnvironmentVariable(SidecarLogging.LevelVariable) is { Length: > 0 } variable)
        {
            if (!LogLevelNames.TryParse(variable, out var level))
            {
                await Console.Error.WriteLineAsync($"sidecar: {SidecarLogging.LevelVariable}: {LogLevelNames.Describe(variable)}.");
                return 1;
            }

            logLevel = level;
        }

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
            LogLevel = logLevel,
        };

        using var shutdown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle);
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle);

        FirstGarbageCollection.Defer();
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
        catch (LoggingConfigurationException ex)
        {
            foreach (var error in ex.Errors)
            {
                await Console.Error.WriteLineAsync($"sidecar: {error}.");
            }

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
