using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>Binds <c>listen</c>: the proxy and admin addresses and the proxy's protocol.</summary>
internal sealed class ListenBinder
{
    private readonly ConfigReader _reader;

    public ListenBinder(ConfigReader reader)
    {
        _reader = reader;
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
        // Port 0 asks the OS for a free port, so two port-0 addresses never collide.
        if (string.Equals(proxy, admin, StringComparison.OrdinalIgnoreCase) && !proxy.EndsWith(":0", StringComparison.Ordinal))
        {
            _reader.Error(map.Node, map.PathOf(ListenKeys.Admin), $"the admin address must differ from the proxy address '{proxy}'");
        }

        var proxyProtocol = _reader.Optional(
            map,
            ListenKeys.ProxyProtocol,
            ProxyProtocol.Http1,
            (YamlNode n, string p, out ProxyProtocol v) => _reader.TryReadEnum(n, p, "proxy protocol", ConfigSpellings.ProxyProtocols, out v));

        return new ListenOptions { Proxy = proxy, Admin = admin, ProxyProtocol = proxyProtocol };
    }

    private string ListenAddress(ConfigMapping map, string key, string fallback)
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
