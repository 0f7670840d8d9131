namespace Sidecar.Configuration;

/// <summary>The keys of <c>policies.&lt;name&gt;.retry_on</c>.</summary>
internal static class RetryOnKeys
{
    public const string Status = "status";
    public const string Errors = "errors";
    public const string Headers = "headers";
    public const string Grpc = "grpc";

    /// <summary>Every key allowed here; the binder reports any other as unknown, with a "did you mean".</summary>
    public static IReadOnlyList<string> All { get; } = [Status, Errors, Headers, Grpc];
}
