using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Sidecar.FunctionalTests.Telemetry;

/// <summary>
/// A real OTLP receiver on 127.0.0.1: OTLP/HTTP (protobuf POSTs on any path, so signal-specific endpoints are taken
/// as configured) on <see cref="HttpAddress"/>, and OTLP/gRPC (HTTP/2 without TLS, as the exporter speaks it to an
/// <c>http://</c> endpoint) on <see cref="GrpcAddress"/>. Every export is recorded and can be decoded.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private const string GrpcContentType = "application/grpc";

    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app) => _app = app;

    /// <summary>OTLP/HTTP, e.g. <c>http://127.0.0.1:41234</c> (no trailing slash).</summary>
    public string HttpAddress { get; private set; } = string.Empty;

    public string GrpcAddress { get; private set; } = string.Empty;

    /// <summary>Every export received: its path, content type and protobuf message (gRPC framing removed).</summary>
    public ConcurrentQueue<(string Path, string ContentType, byte[] Message)> Exports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http1);
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2);
        });
        var app = builder.Build();
        var receiver = new OtlpReceiver(app);
        app.Run(receiver.ReceiveAsync);
        await app.StartAsync();
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.ToList();
        receiver.HttpAddress = addresses[0].TrimEnd('/');
        receiver.GrpcAddress = addresses[1].TrimEnd('/');
        return receiver;
    }

    public IReadOnlyList<string> Paths() => [.. Exports.Select(e => e.Path).Distinct(StringComparer.Ordinal)];

    /// <summary>The spans of every export received at <paramref name="path"/>.</summary>
    public List<OtlpSpan> Spans(string path)
    {
        var spans = new List<OtlpSpan>();
        foreach (var export in Exports.Where(e => e.Path == path))
        {
            var request = new ProtobufReader(export.Message);
            while (request.Next())
            {
                if (request.Field == 1)
                {
                    ReadResourceSpans(request.Bytes(), spans);
                }
                else
                {
                    request.Skip();
                }
            }
        }

        return spans;
    }

    /// <summary>The metric names of every export received at <paramref name="path"/>, with the exporting service's name.</summary>
    public List<(string ServiceName, string Metric)> Metrics(string path)
    {
        var metrics = new List<(string, string)>();
        foreach (var export in Exports.Where(e => e.Path == path))
        {
            var request = new ProtobufReader(export.Message);
            while (request.Next())
            {
                if (request.Field != 1)
                {
                    request.Skip();
                    continue;
                }

                var resourceMetrics = new ProtobufReader(request.Bytes());
                var service = string.Empty;
                var names = new List<string>();
                while (resourceMetrics.Next())
                {
                    switch (resourceMetrics.Field)
                    {
                        case 1:
                            service = ServiceName(resourceMetrics.Bytes());
                            break;
                        case 2:
                            var scopeMetrics = new ProtobufReader(resourceMetrics.Bytes());
                            while (scopeMetrics.Next())
                            {
                                if (scopeMetrics.Field == 2)
                                {
                                    var metric = new ProtobufReader(scopeMetrics.Bytes());
                                    while (metric.Next())
                                    {
                                        if (metric.Field == 1)
                                        {
                                            names.Add(metric.String());
                                        }
                                        else
                                        {
                                            metric.Skip();
                                        }
                                    }
                                }
                                else
                                {
                                    scopeMetrics.Skip();
                                }
                            }

                            break;
                        default:
                            resourceMetrics.Skip();
                            break;
                    }
                }

                metrics.AddRange(names.Select(name => (service, name)));
            }
        }

        return metrics;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted);
        var contentType = context.Request.ContentType ?? string.Empty;
        var message = body.ToArray();
        if (contentType.StartsWith(GrpcContentType, StringComparison.Ordinal))
        {
            // One length-prefixed message: a compression flag byte and a 4-byte big-endian length.
            message = message[5..];
            context.Response.ContentType = GrpcContentType;
            await context.Response.Body.WriteAsync(new byte[5], context.RequestAborted);
            context.Response.AppendTrailer("grpc-status", "0");
        }
        else
        {
            context.Response.ContentType = "application/x-protobuf";
        }

        Exports.Enqueue((context.Request.Path.Value ?? string.Empty, contentType, message));
    }

    private static void ReadResourceSpans(ReadOnlySpan<byte> message, List<OtlpSpan> spans)
    {
        var resourceSpans = new ProtobufReader(message);
        var service = string.Empty;
        var found = new List<OtlpSpan>();
        while (resourceSpans.Next())
        {
            switch (resourceSpans.Field)
            {
                case 1:
                    service = ServiceName(resourceSpans.Bytes());
                    break;
                case 2:
                    var scopeSpans = new ProtobufReader(resourceSpans.Bytes());
                    var scope = string.Empty;
                    while (scopeSpans.Next())
                    {
                        switch (scopeSpans.Field)
                        {
                            case 1:
                                scope = ScopeName(scopeSpans.Bytes());
                                break;
                            case 2:
                                found.Add(ReadSpan(scopeSpans.Bytes(), scope));
                                break;
                            default:
                                scopeSpans.Skip();
                                break;
                        }
                    }

                    break;
                default:
                    resourceSpans.Skip();
                    break;
            }
        }

        spans.AddRange(found.Select(span => span with { ServiceName = service }));
    }

    private static OtlpSpan ReadSpan(ReadOnlySpan<byte> message, string scope)
    {
        var span = new ProtobufReader(message);
        string traceId = string.Empty, spanId = string.Empty, parentSpanId = string.Empty, name = string.Empty, statusMessage = string.Empty;
        int kind = 0, statusCode = 0;
        var attributes = new Dictionary<string, object>(StringComparer.Ordinal);
        while (span.Next())
        {
            switch (span.Field)
            {
                case 1:
                    traceId = Convert.ToHexStringLower(span.Bytes());
                    break;
                case 2:
                    spanId = Convert.ToHexStringLower(span.Bytes());
                    break;
                case 4:
                    parentSpanId = Convert.ToHexStringLower(span.Bytes());
                    break;
                case 5:
                    name = span.String();
                    break;
                case 6:
                    kind = (int)span.Varint();
                    break;
                case 9:
                    var (key, value) = ReadKeyValue(span.Bytes());
                    attributes[key] = value;
                    break;
                case 15:
                    var status = new ProtobufReader(span.Bytes());
                    while (status.Next())
                    {
                        switch (status.Field)
                        {
                            case 2:
                                statusMessage = status.String();
                                break;
                            case 3:
                                statusCode = (int)status.Varint();
                                break;
                            default:
                                status.Skip();
                                break;
                        }
                    }

                    break;
                default:
                    span.Skip();
                    break;
            }
        }

        return new OtlpSpan(string.Empty, scope, traceId, spanId, parentSpanId, name, kind, attributes, statusCode, statusMessage);
    }

    private static string ServiceName(ReadOnlySpan<byte> resource)
    {
        var reader = new ProtobufReader(resource);
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                var (key, value) = ReadKeyValue(reader.Bytes());
                if (key == "service.name")
                {
                    return (string)value;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return string.Empty;
    }

    private static string ScopeName(ReadOnlySpan<byte> scope)
    {
        var reader = new ProtobufReader(scope);
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                return reader.String();
            }

            reader.Skip();
        }

        return string.Empty;
    }

    /// <summary>A <c>KeyValue</c> whose <c>AnyValue</c> is a string, bool, int64 or double.</summary>
    private static (string Key, object Value) ReadKeyValue(ReadOnlySpan<byte> message)
    {
        var reader = new ProtobufReader(message);
        var key = string.Empty;
        object value = string.Empty;
        while (reader.Next())
        {
            if (reader.Field == 1)
            {
                key = reader.String();
            }
            else if (reader.Field == 2)
            {
                var any = new ProtobufReader(reader.Bytes());
                while (any.Next())
                {
                    value = any.Field switch
                    {
                        1 => any.String(),
                        2 => any.Varint() != 0,
                        3 => (long)any.Varint(),
                        4 => any.Double(),
                        _ => SkipAndDescribe(ref any),
                    };
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return (key, value);
    }

    private static string SkipAndDescribe(ref ProtobufReader reader)
    {
        var field = reader.Field;
        reader.Skip();
        return $"<AnyValue field {field}>";
    }
}
