using System.CommandLine;
using System.CommandLine.Parsing;
using Sidecar.Demo;
using Sidecar.Logging;

namespace Sidecar.Cli;

/// <summary>
/// <c>sidecar [run] [--config F] [--json-logs] [--log-level L]</c>, <c>sidecar validate [--config F]</c>, <c>sidecar health [--config F]</c>, <c>sidecar demo</c>, <c>sidecar simulate</c>, <c>sidecar schema</c>.
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
        var logLevel = LogLevelOption();
        root.Options.Add(config);
        root.Options.Add(jsonLogs);
        root.Options.Add(logLevel);
        root.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(config), parse.GetValue(jsonLogs), parse.GetValue(logLevel), cancellationToken));

        var run = new Command("run", "Run the proxy (the default command).");
        var runConfig = ConfigOption();
        var runJsonLogs = new Option<bool>("--json-logs") { Description = jsonLogs.Description };
        var runLogLevel = LogLevelOption();
        run.Options.Add(runConfig);
        run.Options.Add(runJsonLogs);
        run.Options.Add(runLogLevel);
        run.SetAction((parse, cancellationToken) => RunCommand.RunAsync(parse.GetValue(runConfig), parse.GetValue(runJsonLogs), parse.GetValue(runLogLevel), cancellationToken));
        root.Subcommands.Add(run);

        var validate = new Command("validate", "Check a config file and print each route with its cluster, effective policy and delay schedule. Exit 0 when valid, 1 when not.");
        var validateConfig = ConfigOption();
        validate.Options.Add(validateConfig);
        validate.SetAction(parse => ValidateCommand.Run(parse.GetValue(validateConfig), Console.Out, Console.Error));
        root.Subcommands.Add(validate);

        var health = new Command("health", $"Ask the running Sidecar's admin {HealthCommand.ReadinessPath} (at the config's listen.admin) whether it is ready. Exit 0 when it answers 200, 1 otherwise: the container image's HEALTHCHECK.");
        var healthConfig = ConfigOption();
        health.Options.Add(healthConfig);
        health.SetAction((parse, cancellationToken) => HealthCommand.RunAsync(parse.GetValue(healthConfig), Console.Out, Console.Error, cancellationToken));
        root.Subcommands.Add(health);
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create(ConfigOption()));

        var schema = new Command("schema", "Print the JSON Schema (draft-07) of the config file, for editors and Helm's values.schema.json.");
        schema.SetAction(_ => SchemaCommand.Run(Console.Out));
        root.Subcommands.Add(schema);

        return root;
    }

    private static Option<string?> ConfigOption() => new("--config", "-c")
    {
        Description = "Config file. Default: $SIDECAR_CONFIG, else config/sidecar.yaml, else the embedded default.",
    };

    private static Option<LogLevel?> LogLevelOption() => new("--log-level")
    {
        Description = $"Level of Sidecar's own log lines: {LogLevelNames.Accepted}. Default: ${SidecarLogging.LevelVariable}, " +
            "else Logging__LogLevel__Sidecar, else Logging__LogLevel__Default, else information. Debug adds a line per retry.",
        CustomParser = ParseLogLevel,
    };

    private static LogLevel? ParseLogLevel(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (LogLevelNames.TryParse(text, out var level))
        {
            return level;
        }

        result.AddError($"--log-level: {LogLevelNames.Describe(text)}.");
        return null;
    }
}
