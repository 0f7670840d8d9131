namespace Sidecar.Configuration;

/// <summary>The keys of <c>logs</c>.</summary>
internal static class LogsKeys
{
    public const string Access = "access";
    public const string AccessSample = "access_sample";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Access, AccessSample];
}
