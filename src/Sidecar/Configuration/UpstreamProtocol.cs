namespace Sidecar.Configuration;

/// <summary><c>protocol:</c> of a cluster: the HTTP version Sidecar speaks to its destinations.</summary>
internal enum UpstreamProtocol
{
    /// <summary>HTTP/1.1, upgraded to HTTP/2 when an https destination offers it through ALPN. The default.</summary>
    Auto,

    /// <summary>
    /// HTTP/2 only. On an http:// destination that is h2c with prior knowledge (there is no TLS to negotiate it), as
    /// cleartext gRPC servers expect; an https destination must offer h2.
    /// </summary>
    Http2,
}
