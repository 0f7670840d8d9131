using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds a policy's <c>retry_on</c>: the statuses, errors and response headers that make an attempt retryable.</summary>
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
        };
    }
}
