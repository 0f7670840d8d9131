namespace Sidecar.Configuration;

/// <summary><c>listen.proxy_protocol:</c> the HTTP version callers speak to the proxy port.</summary>
internal enum ProxyProtocol
{
    /// <summary>HTTP/1.1, the default.</summary>
    Http1,

    /// <summary>HTTP/2 with prior knowledge over plain text (h2c), as cleartext gRPC clients use.</summary>
    H2c,
}
