namespace Sidecar.Tls;

/// <summary>
/// Thrown by a cluster's server-certificate check to end the handshake with the reason: SslStream's own exception
/// would only say the callback refused, and the caller's 502 and the log line must name the cause.
/// </summary>
internal sealed class UpstreamCertificateException : Exception
{
    public UpstreamCertificateException(string problem)
        : base("certificate " + problem)
    {
        Problem = problem;
    }

    public UpstreamCertificateException()
        : this("was refused")
    {
    }

    public UpstreamCertificateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>What is wrong, to follow "certificate of host:port": <c>is not trusted: issuer CN=Corp Root</c>.</summary>
    public string Problem { get; } = string.Empty;
}
