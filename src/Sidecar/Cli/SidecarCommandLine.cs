using System.CommandLine;
using Sidecar.Demo;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar [run] [--config F]</c>, <c>sidecar validate [--config F]</c>, <c>sidecar demo</c>.
/// <c>run</c> is also the root command's action, so plain <c>sidecar</c> starts the proxy.
/// </summary>
internal static class SidecarCommandLine
{
    public static RootCommand Create()
    {
        var root = new RootCommand(
            "Sidecar: an HTTP retry proxy that runs beside your service. It matches each request to a route in a YAML " +
            "config, forwards it with YARP, and retries transient failures with backoff and jitter within the request's deadline.");

        var config = ConfigOption();
        var jsonLogs = new Option<bool>("--json-logs") { Description = "Log JSON lines instead of text (also SIDECAR_LOG_FORMAT=json)." };
        root.Options.Add(config);
        root.Options.Add(jsonLogs);
        root.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(config), parse.GetValue(jsonLogs), cancellationToken));

        var run = new Command("run", "Run the proxy (the default command).");
        var runConfig = ConfigOption();
        var runJsonLogs = new Option<bool>("--json-logs") { Description = jsonLogs.Description };
        run.Options.Add(runConfig);
        run.Options.Add(runJsonLogs);
        run.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(runConfig), parse.GetValue(runJsonLogs), cancellationToken));
        root.Subcommands.Add(run);

        var validate = new Command("validate", "Check a config file and print each route with its cluster, effective policy and delay schedule. Exit 0 when valid, 1 when not.");
        var validateConfig = ConfigOption();
        validate.Options.Add(validateConfig);
        validate.SetAction(parse => ValidateCommand.Run(parse.GetValue(validateConfig), Console.Out, Console.Error));
        root.Subcommands.Add(validate);
        root.Subcommands.Add(DemoCommand.Create());

        return root;
    }

    private static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "Config file. Default: $SIDECAR_CONFIG, else config/sidecar.yaml, else the embedded default.",
    };
}
