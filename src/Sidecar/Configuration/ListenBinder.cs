using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>listen</c>: the proxy, admin and optional metrics addresses and the proxy's protocol; no two may bind the same port.</summary>
internal sealed class ListenBinder
{
    private readonly ConfigReader _reader;
    private readonly TlsBinder _tls;

    public ListenBinder(ConfigReader reader, TlsBinder tls)
    {
        _reader = reader;
        _tls = tls;
    }

    /// <summary>Binds <c>listen</c> at <paramref name="path"/>; the defaults when it is not a mapping.</summary>
    public ListenOptions Bind(YamlNode node, string path)
    {
        var map = _reader.ReadMapping(node, path, ListenKeys.All);
        if (map is null)
        {
            return new ListenOptions();
        }

        var proxy = ListenAddress(map, ListenKeys.Proxy, ConfigDefaults.ProxyAddress);
        var admin = ListenAddress(map, ListenKeys.Admin, ConfigDefaults.AdminAddress);
        var metrics = ListenAddress(map, ListenKeys.Metrics, fallback: null);
        PlainOnly(map, ListenKeys.Admin, admin);
        if (metrics is not null)
        {
            PlainOnly(map, ListenKeys.Metrics, metrics);
        }

        CheckApart(map, (ListenKeys.Proxy, proxy), (ListenKeys.Admin, admin));
        if (metrics is not null)
        {
            CheckApart(map, (ListenKeys.Proxy, proxy), (ListenKeys.Metrics, metrics));
            CheckApart(map, (ListenKeys.Admin, admin), (ListenKeys.Metrics, metrics));
        }

        var proxyProtocol = _reader.Optional(
            map,
            ListenKeys.ProxyProtocol,
            ProxyProtocol.Http1,
            (YamlNode n, string p, out ProxyProtocol v) => _reader.TryReadEnum(n, p, "proxy protocol", ConfigSpellings.ProxyProtocols, out v));

        var tls = _tls.BindListen(map, proxy);
        if (tls is not null && proxyProtocol == ProxyProtocol.H2c)
        {
            map.TryGet(ListenKeys.ProxyProtocol, out var protocolNode);
            _reader.Error(protocolNode!, map.PathOf(ListenKeys.ProxyProtocol), "h2c is cleartext HTTP/2; over https:// callers negotiate HTTP/2 or HTTP/1.1 by ALPN, so remove proxy_protocol");
        }

        return new ListenOptions { Proxy = proxy, Admin = admin, Metrics = metrics, ProxyProtocol = proxyProtocol, Tls = tls };
    }

    /// <summary>The admin and metrics ports serve loopback probes and scrapes in cleartext: an https:// address there would be a downgrade.</summary>
    private void PlainOnly(ConfigMapping map, string key, string address)
    {
        if (address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            map.TryGet(key, out var node);
            _reader.Error(node!, map.PathOf(key), $"the {key} address must be http:// (only the proxy listener serves TLS, with listen.tls), got '{UrlRedaction.Redact(address)}'");
        }
    }

    /// <summary>Reports <paramref name="second"/> when it would bind a port <paramref name="first"/> already binds.</summary>
    private void CheckApart(ConfigMapping map, (string Key, string Address) first, (string Key, string Address) second)
    {
        if (string.Equals(first.Address, second.Address, StringComparison.OrdinalIgnoreCase))
        {
            // Port 0 asks the OS for a free port, so two port-0 addresses never collide.
            if (!first.Address.EndsWith(":0", StringComparison.Ordinal))
            {
                _reader.Error(map.Node, map.PathOf(second.Key), $"the {second.Key} address must differ from the {first.Key} address '{UrlRedaction.Redact(first.Address)}'");
            }
        }
        else if (UrlRules.ListenAddressesOverlap(first.Address, second.Address) is { } port)
        {
            _reader.Error(
                map.Node,
                map.PathOf(second.Key),
                $"the {second.Key} address '{UrlRedaction.Redact(second.Address)}' and the {first.Key} address '{UrlRedaction.Redact(first.Address)}' both bind port {port}");
        }
    }

    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(fallback))]
    private string? ListenAddress(ConfigMapping map, string key, string? fallback)
    {
        if (_reader.String(map, key) is not { } address)
        {
            return fallback;
        }

        if (UrlRules.ListenAddressError(address) is { } error)
        {
            map.TryGet(key, out var node);
            _reader.Error(node!, map.PathOf(key), error);
            return fallback;
        }

        return address;
    }
}
