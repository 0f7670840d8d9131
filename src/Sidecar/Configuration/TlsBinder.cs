using YamlDotNet.RepresentationModel;

namespace Sidecar.Configuration;

/// <summary>
/// Binds a cluster's <c>tls</c> and <c>listen.tls</c>, and checks the files they name as the running proxy will read
/// them (<see cref="CertificateFiles"/>): present, readable, PEM, key matching certificate, certificate valid now.
/// A relative path is resolved against the config file's folder, so a config and its certificates move together.
/// </summary>
internal sealed class TlsBinder
{
    private readonly ConfigReader _reader;
    private readonly string _baseDirectory;
    private readonly DateTimeOffset _now;

    public TlsBinder(ConfigReader reader, DateTimeOffset now)
    {
        _reader = reader;
        _now = now;
        _baseDirectory = File.Exists(reader.File) ? Path.GetDirectoryName(Path.GetFullPath(reader.File))! : Environment.CurrentDirectory;
    }

    /// <summary>Binds <c>clusters.&lt;name&gt;.tls</c>; <paramref name="destinations"/> are the cluster's valid destinations.</summary>
    public UpstreamTlsOptions? BindUpstream(ConfigMapping cluster, IReadOnlyList<string> destinations)
    {
        if (!cluster.TryGet(ClusterKeys.Tls, out var node) || _reader.ReadMapping(node, cluster.PathOf(ClusterKeys.Tls), ClusterKeys.TlsKeys.All) is not { } map)
        {
            return null;
        }

        if (destinations.Count > 0 && !destinations.Any(d => d.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            _reader.Error(node, map.Path, "every destination of this cluster is http://; tls applies to https:// destinations (change them to https:// or remove tls)");
        }

        var caFile = FilePath(map, ClusterKeys.TlsKeys.CaFile);
        if (caFile is not null && !CertificateFiles.TryLoadAuthorities(caFile, out _, out var caError))
        {
            FileError(map, ClusterKeys.TlsKeys.CaFile, caError);
        }

        var (certFile, keyFile) = CertificatePair(map, ClusterKeys.TlsKeys.CertFile, ClusterKeys.TlsKeys.KeyFile, required: false);
        string? serverName = null;
        if (_reader.String(map, ClusterKeys.TlsKeys.ServerName) is { } name)
        {
            if (Uri.CheckHostName(name) is UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
            {
                serverName = name;
            }
            else
            {
                map.TryGet(ClusterKeys.TlsKeys.ServerName, out var nameNode);
                _reader.Error(nameNode!, map.PathOf(ClusterKeys.TlsKeys.ServerName), $"'{name}' is not a host name");
            }
        }

        return new UpstreamTlsOptions
        {
            CaFile = caFile,
            CertFile = certFile,
            KeyFile = keyFile,
            ServerName = serverName,
            MinVersion = _reader.Optional(
                map,
                ClusterKeys.TlsKeys.MinVersion,
                ConfigDefaults.TlsMinVersion,
                (YamlNode n, string p, out TlsMinVersion v) => _reader.TryReadEnum(n, p, "TLS version", ConfigSpellings.TlsVersions, out v)),
            InsecureSkipVerify = _reader.Bool(map, ClusterKeys.TlsKeys.InsecureSkipVerify, fallback: false),
        };
    }

    /// <summary>Binds <c>listen.tls</c>, which an https:// proxy address needs and an http:// one must not have.</summary>
    public ListenTlsOptions? BindListen(ConfigMapping listen, string proxyAddress)
    {
        var https = proxyAddress.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        if (!listen.TryGet(ListenKeys.Tls, out var node))
        {
            if (https)
            {
                listen.TryGet(ListenKeys.Proxy, out var proxyNode);
                _reader.Error(
                    proxyNode ?? listen.Node,
                    listen.PathOf(ListenKeys.Proxy),
                    $"an https:// address needs a certificate: add {ListenKeys.Tls}: {{ {ListenKeys.TlsKeys.CertFile}, {ListenKeys.TlsKeys.KeyFile} }} under listen, or listen on http://");
            }

            return null;
        }

        if (_reader.ReadMapping(node, listen.PathOf(ListenKeys.Tls), ListenKeys.TlsKeys.All) is not { } map)
        {
            return null;
        }

        if (!https)
        {
            _reader.Error(node, map.Path, $"listen.tls needs an https:// proxy address, got '{UrlRedaction.Redact(proxyAddress)}'");
        }

        var (certFile, keyFile) = CertificatePair(map, ListenKeys.TlsKeys.CertFile, ListenKeys.TlsKeys.KeyFile, required: true);
        var clientCaFile = FilePath(map, ListenKeys.TlsKeys.ClientCaFile);
        if (clientCaFile is not null && !CertificateFiles.TryLoadAuthorities(clientCaFile, out _, out var caError))
        {
            FileError(map, ListenKeys.TlsKeys.ClientCaFile, caError);
        }

        return certFile is null || keyFile is null ? null : new ListenTlsOptions { CertFile = certFile, KeyFile = keyFile, ClientCaFile = clientCaFile };
    }

    /// <summary>Both or neither of a certificate and its key (both with <paramref name="required"/>), loaded together.</summary>
    private (string? Cert, string? Key) CertificatePair(ConfigMapping map, string certKey, string keyKey, bool required)
    {
        var hasCert = map.TryGet(certKey, out _);
        var hasKey = map.TryGet(keyKey, out _);
        if (required || hasCert != hasKey)
        {
            if (!hasCert)
            {
                _reader.Error(map.Node, map.PathOf(certKey), $"missing required key '{certKey}'{(hasKey ? $" ({keyKey} is the key of a certificate)" : string.Empty)}");
            }

            if (!hasKey)
            {
                _reader.Error(map.Node, map.PathOf(keyKey), $"missing required key '{keyKey}'{(hasCert ? $" (the private key of {certKey})" : string.Empty)}");
            }
        }

        var cert = FilePath(map, certKey);
        var key = FilePath(map, keyKey);
        if (cert is null || key is null)
        {
            return (null, null);
        }

        if (!CertificateFiles.TryLoadCertificate(cert, key, _now, out var certificate, out _, out var error, out var faultyFile))
        {
            FileError(map, faultyFile == key ? keyKey : certKey, error);
            return (cert, key);
        }

        certificate.Dispose();
        return (cert, key);
    }

    private string? FilePath(ConfigMapping map, string key) =>
        _reader.String(map, key) is { } path ? Path.GetFullPath(path, _baseDirectory) : null;

    private void FileError(ConfigMapping map, string key, string message)
    {
        map.TryGet(key, out var node);
        _reader.Error(node!, map.PathOf(key), message);
    }
}
