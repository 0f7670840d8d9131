namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>One span as an OTLP exporter sent it: ids in lower-case hex, attributes by key.</summary>
public sealed record OtlpSpan(
    string ServiceName,
    string Scope,
    string TraceId,
    string SpanId,
    string ParentSpanId,
    string Name,
    int Kind,
    IReadOnlyDictionary<string, object> Attributes,
    int StatusCode,
    string StatusMessage)
{
    /// <summary>OTLP <c>SPAN_KIND_SERVER</c>.</summary>
    public const int ServerKind = 2;

    /// <summary>OTLP <c>SPAN_KIND_CLIENT</c>.</summary>
    public const int ClientKind = 3;

    /// <summary>OTLP <c>STATUS_CODE_ERROR</c>.</summary>
    public const int ErrorStatus = 2;

    public object? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? value : null;
}
