using Sidecar.Grpc;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds a policy's <c>retry_on</c>: the statuses, errors, response headers and gRPC statuses that make an attempt retryable.</summary>
internal sealed class RetryOnBinder
{
    private readonly ConfigReader _reader;
    private readonly HttpValueBinder _http;

    public RetryOnBinder(ConfigReader reader, HttpValueBinder http)
    {
        _reader = reader;
        _http = http;
    }

    /// <summary>Binds a policy's <c>retry_on</c> mapping; absent keys keep their defaults.</summary>
    public RetryOnOptions Bind(ConfigMapping map)
    {
        var defaults = new RetryOnOptions();
        var errors = defaults.Errors;
        if (map.TryGet(RetryOnKeys.Errors, out var errorsNode) && _reader.ReadSequence(errorsNode, map.PathOf(RetryOnKeys.Errors)) is { } items)
        {
            errors = RetryableErrors.None;
            foreach (var (item, path) in items)
            {
                if (_reader.TryReadEnum(item, path, "error", ConfigSpellings.ErrorNames, out var error))
                {
                    if ((errors & error) != 0)
                    {
                        _reader.Error(item, path, $"duplicate error '{((YamlScalarNode)item).Value}'");
                    }

                    errors |= error;
                }
            }
        }

        return new RetryOnOptions
        {
            Status = map.TryGet(RetryOnKeys.Status, out var statusNode) ? _http.BindStatusList(statusNode, map.PathOf(RetryOnKeys.Status)) : defaults.Status,
            Errors = errors,
            Headers = map.TryGet(RetryOnKeys.Headers, out var headersNode)
                ? _reader.ReadList(headersNode, map.PathOf(RetryOnKeys.Headers), _http.BindResponseHeader)
                : defaults.Headers,
            Grpc = map.TryGet(RetryOnKeys.Grpc, out var grpcNode) ? BindGrpcStatusList(grpcNode, map.PathOf(RetryOnKeys.Grpc)) : defaults.Grpc,
        };
    }

    /// <summary>gRPC status names (<c>unavailable</c>) or numbers (14); OK is a success and never retried.</summary>
    private List<int> BindGrpcStatusList(YamlNode node, string path)
    {
        var result = new List<int>();
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (!_reader.TryReadString(item, itemPath, out var text))
            {
                continue;
            }

            if (!GrpcStatus.TryParseName(text, out var code))
            {
                _reader.Error(item, itemPath, ConfigReader.UnknownMessage("gRPC status", text, [.. GrpcStatus.ConfigNames], "use a number from 0 to 16 or one of"));
            }
            else if (code == GrpcStatus.Ok)
            {
                _reader.Error(item, itemPath, "gRPC status 'ok' is a success and cannot be retried");
            }
            else if (result.Contains(code))
            {
                _reader.Error(item, itemPath, $"duplicate gRPC status '{text}'");
            }
            else
            {
                result.Add(code);
            }
        }

        return result;
    }
}
