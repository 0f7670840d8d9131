using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Binds the HTTP values that policies and routes share: methods, header names, status lists and response-header
/// matchers (<c>retry_on.headers</c>, <c>retry_until[].header</c>).
/// </summary>
internal sealed class HttpValueBinder
{
    /// <summary>RFC 9110 §9 methods plus PATCH (RFC 5789); anything else is far more likely a typo than an extension method.</summary>
    private static readonly string[] KnownMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

    private readonly ConfigReader _reader;

    public HttpValueBinder(ConfigReader reader)
    {
        _reader = reader;
    }

    /// <summary>Binds a list of statuses (<c>503</c>, <c>5xx</c>), reporting invalid and duplicate ones.</summary>
    public IReadOnlyList<StatusMatcher> BindStatusList(YamlNode node, string path)
    {
        var result = new List<StatusMatcher>();
        foreach (var (item, itemPath) in _reader.ReadSequence(node, path) ?? [])
        {
            if (!_reader.TryReadString(item, itemPath, out var text))
            {
                continue;
            }

            if (StatusParser.TryParse(text, out var matcher))
            {
                if (result.Contains(matcher))
                {
                    _reader.Error(item, itemPath, $"duplicate status '{text}'");
                }

                result.Add(matcher);
            }
            else
            {
                _reader.Error(item, itemPath, $"invalid status '{text}': use a code from 100 to 599 or a class such as '5xx'");
            }
        }

        return result;
    }

    /// <summary>Binds a response-header matcher (<c>name</c>, <c>values</c>); <c>null</c> when it cannot be used.</summary>
    public ResponseHeaderMatcher? BindResponseHeader(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, HeaderKeys.ResponseHeader);
        if (map is null)
        {
            return null;
        }

        var name = RequiredHeaderName(map);
        var values = map.TryGet(HeaderKeys.Values, out var valuesNode) ? _reader.ReadStringList(valuesNode, map.PathOf(HeaderKeys.Values)) : [];
        return name is null ? null : new ResponseHeaderMatcher { Name = name, Values = values };
    }

    /// <summary>An HTTP method in upper case, or <c>null</c> (reported) when it is not a known one.</summary>
    public string? ReadMethod(YamlNode node, string path)
    {
        if (!_reader.TryReadString(node, path, out var text))
        {
            return null;
        }

        var upper = text.ToUpperInvariant();
        if (!KnownMethods.Contains(upper, StringComparer.Ordinal))
        {
            _reader.Error(node, path, ConfigReader.UnknownMessage("method", text, KnownMethods, "allowed"));
            return null;
        }

        return upper;
    }

    /// <summary>The required <c>name</c> of a header matcher, or <c>null</c> (reported) when absent or not an RFC 9110 token.</summary>
    public string? RequiredHeaderName(ConfigMapping map)
    {
        if (!_reader.Require(map, HeaderKeys.Name) || _reader.String(map, HeaderKeys.Name) is not { } name)
        {
            return null;
        }

        if (!name.All(IsTokenChar))
        {
            map.TryGet(HeaderKeys.Name, out var nameNode);
            _reader.Error(nameNode!, map.PathOf(HeaderKeys.Name), $"invalid header name '{name}': use letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 token)");
            return null;
        }

        return name;
    }

    /// <summary>RFC 9110 §5.6.2 <c>tchar</c>: the characters a header name may use.</summary>
    private static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
