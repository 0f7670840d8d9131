namespace Sidecar.Configuration;

/// <summary>One problem found in a configuration file, with where it is.</summary>
/// <param name="File">The file as the user named it.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column.</param>
/// <param name="KeyPath">Key path such as <c>routes[1].policy</c> or <c>policies.default.backoff.base</c>.</param>
/// <param name="Message">What is wrong, e.g. <c>unknown policy 'fast'</c>.</param>
internal sealed record ConfigError(string File, int Line, int Column, string KeyPath, string Message)
{
    /// <summary>
    /// <c>config/sidecar.yaml:14:5 routes[1].policy: unknown policy 'fast'</c>; without a key path (a YAML syntax
    /// error, a missing file) just <c>config/sidecar.yaml:3:1 YAML syntax error: ...</c>.
    /// </summary>
    public override string ToString() =>
        KeyPath.Length == 0 ? $"{File}:{Line}:{Column} {Message}" : $"{File}:{Line}:{Column} {KeyPath}: {Message}";
}
