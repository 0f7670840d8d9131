using Sidecar.Hosting;
using Sidecar.Logging;

namespace Sidecar.Tests.Logging;

public sealed class SidecarLoggingTests
{
    [Theory]
    [InlineData(null, null, null, LogLevel.Information)]
    [InlineData(null, null, "Debug", LogLevel.Debug)]
    [InlineData(null, "Warning", "Debug", LogLevel.Warning)]
    [InlineData(LogLevel.Error, "Warning", "Debug", LogLevel.Error)]
    [InlineData(LogLevel.Trace, null, "None", LogLevel.Trace)]
    [InlineData(null, "1", null, LogLevel.Debug)]
    public void SidecarLevel_Sources_OperatorThenSidecarKeyThenDefaultKeyThenInformation(LogLevel? operatorLevel, string? sidecarKey, string? defaultKey, LogLevel expected)
    {
        var configuration = Configuration(("Logging:LogLevel:Sidecar", sidecarKey), ("Logging:LogLevel:Default", defaultKey));

        Assert.Equal(expected, SidecarLogging.SidecarLevel(operatorLevel, configuration));
    }

    [Fact]
    public void Validate_BadValues_EveryOneWithItsKeyAndVariableName()
    {
        var configuration = Configuration(
            ("Logging:LogLevel:Default", "verbose"),
            ("Logging:LogLevel:Sidecar", "Debug"),
            ("Logging:LogLevel:Microsoft", ""),
            ("Logging:Console:LogLevel:Yarp", "7"),
            ("Logging:Console:FormatterName", "json"));

        Assert.Equal(
            [
                "Logging:Console:LogLevel:Yarp (Logging__Console__LogLevel__Yarp): '7' is not a log level: use trace, debug, information, warning, error, critical or none",
                "Logging:LogLevel:Default (Logging__LogLevel__Default): 'verbose' is not a log level: use trace, debug, information, warning, error, critical or none",
            ],
            SidecarLogging.Validate(configuration));
    }

    [Fact]
    public void Configure_BadValue_ThrowsWithTheErrors()
    {
        var configuration = Configuration(("Logging:LogLevel:Default", "loud"));

        var ex = Assert.Throws<LoggingConfigurationException>(() => Enabled(configuration, new SidecarHostOptions()));

        Assert.Contains("Logging__LogLevel__Default", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Configure_NothingSet_SidecarInformationLibrariesWarningBuiltInsApplied()
    {
        var enabled = Enabled(Configuration(), new SidecarHostOptions());

        Assert.Equal(LogLevel.Information, enabled("Sidecar.Retries.AttemptLoop"));
        Assert.Equal(LogLevel.Warning, enabled("Microsoft.AspNetCore.Server.Kestrel"));
        Assert.Equal(LogLevel.Error, enabled("Yarp.ReverseProxy.Forwarder.HttpForwarder"));
        Assert.Equal(LogLevel.None, enabled("Microsoft.AspNetCore.Hosting.Diagnostics"));
    }

    [Fact]
    public void Configure_DefaultKeyDebug_EverythingDebugButTheBuiltIns()
    {
        var enabled = Enabled(Configuration(("Logging:LogLevel:Default", "Debug")), new SidecarHostOptions());

        Assert.Equal(LogLevel.Debug, enabled("Sidecar.Retries.AttemptLoop"));
        Assert.Equal(LogLevel.Debug, enabled("Microsoft.AspNetCore.Server.Kestrel"));
        Assert.Equal(LogLevel.Error, enabled("Yarp.ReverseProxy.Forwarder.HttpForwarder"));
    }

    [Fact]
    public void Configure_CategoryKeys_OverrideBuiltInsAndTheSidecarLevelForLongerCategories()
    {
        var configuration = Configuration(
            ("Logging:LogLevel:Yarp.ReverseProxy.Forwarder.HttpForwarder", "Warning"),
            ("Logging:LogLevel:Sidecar.Logging.RetryLog", "Error"));

        var enabled = Enabled(configuration, new SidecarHostOptions { LogLevel = LogLevel.Debug });

        Assert.Equal(LogLevel.Warning, enabled("Yarp.ReverseProxy.Forwarder.HttpForwarder"));
        Assert.Equal(LogLevel.Error, enabled("Sidecar.Logging.RetryLog"));
        Assert.Equal(LogLevel.Debug, enabled("Sidecar.Retries.AttemptLoop"));
    }

    [Fact]
    public void Configure_OperatorLevelAboveWarning_QuietsLibrariesToo()
    {
        var configuration = Configuration(("Logging:LogLevel:Default", "Debug"));

        var enabled = Enabled(configuration, new SidecarHostOptions { LogLevel = LogLevel.Error });

        Assert.Equal(LogLevel.Error, enabled("Sidecar.Retries.AttemptLoop"));
        Assert.Equal(LogLevel.Error, enabled("Microsoft.AspNetCore.Server.Kestrel"));
        Assert.Equal(LogLevel.None, enabled("Microsoft.AspNetCore.Hosting.Diagnostics"));
    }

    [Fact]
    public void Configure_OperatorLevelDebug_LibrariesStayAtWarning()
    {
        var enabled = Enabled(Configuration(), new SidecarHostOptions { LogLevel = LogLevel.Debug });

        Assert.Equal(LogLevel.Debug, enabled("Sidecar.Retries.AttemptLoop"));
        Assert.Equal(LogLevel.Warning, enabled("Microsoft.AspNetCore.Server.Kestrel"));
    }

    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Where(v => v.Value is not null).Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    /// <summary>
    /// Logging set up as a host does (the configuration's rules first, as the builder registers them) then by
    /// <see cref="SidecarLogging.Configure"/>; returns the lowest enabled level of a category (None when nothing is).
    /// </summary>
    private static Func<string, LogLevel> Enabled(IConfiguration configuration, SidecarHostOptions options)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging =>
        {
            logging.AddConfiguration(configuration.GetSection("Logging"));
            SidecarLogging.Configure(logging, configuration, options.LogLevel, options.JsonLogs, options.ConfigureLogging);
        });
        var provider = services.BuildServiceProvider();
        var factory = provider.GetRequiredService<ILoggerFactory>();
        return category =>
        {
            var logger = factory.CreateLogger(category);
            for (var level = LogLevel.Trace; level < LogLevel.None; level++)
            {
                if (logger.IsEnabled(level))
                {
                    return level;
                }
            }

            return LogLevel.None;
        };
    }
}
