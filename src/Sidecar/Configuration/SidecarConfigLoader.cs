using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Reads and validates <c>sidecar.yaml</c>. Never throws on bad input: every problem becomes a <see cref="ConfigError"/>.</summary>
internal static class SidecarConfigLoader
{
    /// <summary>Reads <paramref name="path"/> and parses it; a missing or unreadable file is one error at 1:1.</summary>
    public static ConfigLoadResult LoadFile(string path) => LoadFile(path, MemoryBudget.Current);

    /// <summary>As <see cref="LoadFile(string)"/>, deriving absent limits from <paramref name="memory"/>.</summary>
    public static ConfigLoadResult LoadFile(string path, MemoryBudget memory)
    {
        string yaml;
        try
        {
            yaml = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var message = ex is FileNotFoundException or DirectoryNotFoundException
                ? "configuration file not found"
                : $"cannot read configuration file: {ex.Message}";
            return new ConfigLoadResult(null, [new ConfigError(path, 1, 1, string.Empty, message)]);
        }

        return Parse(yaml, path, memory);
    }

    /// <summary>Parses YAML text; <paramref name="sourcePath"/> names the file in errors.</summary>
    /// <remarks>
    /// 1. Parse into the YAML representation model, dropping (and reporting) duplicate keys on the way.
    /// 2. Reject a stream with more than one document.
    /// 3. Bind and validate with <see cref="SidecarConfigBinder"/>, collecting every error.
    /// Errors come back sorted by position so they read top to bottom like the file.
    /// </remarks>
    public static ConfigLoadResult Parse(string yaml, string sourcePath) => Parse(yaml, sourcePath, MemoryBudget.Current);

    /// <summary>As <see cref="Parse(string, string)"/>, deriving absent limits from <paramref name="memory"/>.</summary>
    public static ConfigLoadResult Parse(string yaml, string sourcePath, MemoryBudget memory)
    {
        var errors = new List<ConfigError>();
        var reader = new ConfigReader(sourcePath, errors);
        var stream = new YamlStream();
        using var text = new StringReader(yaml);
        var parser = new DuplicateKeyCheckingParser(new Parser(text), sourcePath, errors);
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            errors.Add(new ConfigError(sourcePath, (int)ex.Start.Line, (int)ex.Start.Column, string.Empty, $"YAML syntax error: {ex.Message}"));
            return Fail(errors);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
        {
            // YamlDotNet throws these, without a location, on some malformed input: the scanner an
            // InvalidOperationException (e.g. an unclosed flow sequence followed by a mapping key), the representation
            // model an ArgumentException ("unsupported event") when its lenient parser lets an alias follow a flow
            // mapping (`match: { path: p }*a`, found by Fuzz/ConfigFuzzTests) and a mapping ends up with an odd number of nodes.
            var mark = parser.LastGoodMark;
            errors.Add(new ConfigError(sourcePath, (int)mark.Line, (int)mark.Column, string.Empty, "YAML syntax error after this point (is a '[', '{' or quote left open?)"));
            return Fail(errors);
        }

        if (stream.Documents.Count > 1)
        {
            reader.Error(stream.Documents[1].RootNode, string.Empty, "only one YAML document is allowed; remove the second '---'");
        }

        var root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode : null;
        var config = new SidecarConfigBinder(reader, memory).Bind(root, sourcePath);
        return errors.Count == 0 && config is not null ? new ConfigLoadResult(config, []) : Fail(errors);
    }

    private static ConfigLoadResult Fail(List<ConfigError> errors) =>
        new(null, [.. errors.OrderBy(e => e.Line).ThenBy(e => e.Column)]);
}
