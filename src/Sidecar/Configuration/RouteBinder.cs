using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds one entry of <c>routes</c> and its <c>match</c>, checking its cluster and policy against the declared ones.</summary>
internal sealed partial class RouteBinder
{
    private readonly ConfigReader _reader;
    private readonly HttpValueBinder _http;

    public RouteBinder(ConfigReader reader, HttpValueBinder http)
    {
        _reader = reader;
        _http = http;
    }

    /// <summary>Binds one route, checking its cluster and policy against the declared names and its name against <paramref name="firstLines"/> (name → line, filled as routes bind); <c>null</c> when it cannot be used.</summary>
    public RouteOptions? Bind(
        YamlNode node,
        string path,
        IReadOnlyList<string> clusterNames,
        IReadOnlyList<string> policyNames,
        Dictionary<string, int> firstLines)
    {
        var map = _reader.ReadMapping(node, path, RouteKeys.All);
        if (map is null)
        {
            return null;
        }

        string? name = null;
        if (_reader.Require(map, RouteKeys.Name) && _reader.String(map, RouteKeys.Name) is { } n)
        {
            map.TryGet(RouteKeys.Name, out var nameNode);
            if (!ConfigReader.IsValidName(n))
            {
                _reader.Error(nameNode!, map.PathOf(RouteKeys.Name), ConfigReader.InvalidNameMessage("route", n));
            }
            else if (firstLines.TryGetValue(n, out var firstLine))
            {
                _reader.Error(nameNode!, map.PathOf(RouteKeys.Name), $"duplicate route name '{n}' (first defined at line {firstLine})");
            }
            else
            {
                firstLines.Add(n, (int)node.Start.Line);
                name = n;
            }
        }

        string? cluster = null;
        if (_reader.Require(map, RouteKeys.Cluster) && _reader.String(map, RouteKeys.Cluster) is { } c)
        {
            cluster = CheckReference(map, RouteKeys.Cluster, c, clusterNames);
        }

        string? policy = null;
        if (_reader.String(map, RouteKeys.Policy) is { } p)
        {
            policy = CheckReference(map, RouteKeys.Policy, p, policyNames);
        }

        var match = map.TryGet(RouteKeys.Match, out var matchNode) ? BindMatch(matchNode, map.PathOf(RouteKeys.Match)) : new RouteMatchOptions();
        if (name is null || cluster is null || match is null)
        {
            return null;
        }

        return new RouteOptions
        {
            Name = name,
            Match = match,
            Cluster = cluster,
            Policy = policy,
            Line = (int)node.Start.Line,
        };
    }

    private string? CheckReference(ConfigMapping map, string key, string name, IReadOnlyList<string> declared)
    {
        if (declared.Contains(name, StringComparer.Ordinal))
        {
            return name;
        }

        map.TryGet(key, out var node);
        var hint = declared.Count == 0
            ? $"no {key} is declared"
            : $"declared: {string.Join(", ", declared)}";
        _reader.Error(node!, map.PathOf(key), $"unknown {key} '{name}'{Spelling.DidYouMean(name, declared)}; {hint}");
        return null;
    }

    private RouteMatchOptions? BindMatch(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, RouteKeys.MatchKeys.All);
        if (map is null)
        {
            return null;
        }

        var defaults = new RouteMatchOptions();
        var routePath = _reader.String(map, RouteKeys.MatchKeys.Path) ?? defaults.Path;
        if (!routePath.StartsWith('/'))
        {
            map.TryGet(RouteKeys.MatchKeys.Path, out var pathNode);
            _reader.Error(pathNode!, map.PathOf(RouteKeys.MatchKeys.Path), $"must start with '/', got '{routePath}'");
        }

        var methods = new List<string>();
        if (map.TryGet(RouteKeys.MatchKeys.Methods, out var methodsNode))
        {
            foreach (var (item, itemPath) in _reader.ReadSequence(methodsNode, map.PathOf(RouteKeys.MatchKeys.Methods)) ?? [])
            {
                if (_http.ReadMethod(item, itemPath) is not { } method)
                {
                    continue;
                }

                if (methods.Contains(method, StringComparer.Ordinal))
                {
                    _reader.Error(item, itemPath, $"duplicate method '{method}'");
                }
                else
                {
                    methods.Add(method);
                }
            }
        }

        var hosts = new List<string>();
        if (map.TryGet(RouteKeys.MatchKeys.Hosts, out var hostsNode))
        {
            foreach (var (item, itemPath) in _reader.ReadSequence(hostsNode, map.PathOf(RouteKeys.MatchKeys.Hosts)) ?? [])
            {
                if (!_reader.TryReadString(item, itemPath, out var host))
                {
                    continue;
                }

                if (!HostPattern().IsMatch(host))
                {
                    _reader.Error(item, itemPath, $"invalid host '{host}': use a host name with an optional port and leading '*.', e.g. 'api.example.com' or '*.example.com:8080'");
                }
                else
                {
                    hosts.Add(host);
                }
            }
        }

        return new RouteMatchOptions
        {
            Path = routePath,
            Methods = methods,
            Hosts = hosts,
            Headers = map.TryGet(RouteKeys.MatchKeys.Headers, out var headersNode) ? _reader.ReadList(headersNode, map.PathOf(RouteKeys.MatchKeys.Headers), BindHeaderMatch) : [],
        };
    }

    private HeaderMatchOptions? BindHeaderMatch(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, HeaderKeys.Match);
        if (map is null)
        {
            return null;
        }

        var name = _http.RequiredHeaderName(map);
        var mode = HeaderMatchMode.Exact;
        var modeValid = !map.TryGet(HeaderKeys.Mode, out var modeNode) || _reader.TryReadEnum(modeNode, map.PathOf(HeaderKeys.Mode), "mode", ConfigSpellings.HeaderModes, out mode);
        var values = map.TryGet(HeaderKeys.Values, out var valuesNode) ? _reader.ReadStringList(valuesNode, map.PathOf(HeaderKeys.Values)) : [];
        if (!modeValid)
        {
            return null;
        }

        if (mode is HeaderMatchMode.Exists or HeaderMatchMode.NotExists)
        {
            if (values.Count > 0)
            {
                _reader.Error(valuesNode!, map.PathOf(HeaderKeys.Values), $"mode '{ModeName(mode)}' takes no values");
            }
        }
        else if (valuesNode is null || valuesNode is YamlSequenceNode { Children.Count: 0 } || ConfigReader.IsNull(valuesNode))
        {
            _reader.Error(valuesNode ?? map.Node, map.PathOf(HeaderKeys.Values), $"mode '{ModeName(mode)}' needs at least one value (use mode 'exists' to match any value)");
        }

        return name is null ? null : new HeaderMatchOptions { Name = name, Values = values, Mode = mode };
    }

    private static string ModeName(HeaderMatchMode mode) => ConfigSpellings.Name(ConfigSpellings.HeaderModes, mode);

    [GeneratedRegex(@"^(\*\.)?([A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")]
    private static partial Regex HostPattern();
}
