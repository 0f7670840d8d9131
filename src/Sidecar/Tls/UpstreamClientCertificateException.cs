namespace Sidecar.Tls;

/// <summary>Thrown by a cluster's client-certificate selection when the server asks for a certificate Sidecar does not have.</summary>
internal sealed class UpstreamClientCertificateException : Exception
{
    public UpstreamClientCertificateException(string problem)
        : base(problem)
    {
        Problem = problem;
    }

    public UpstreamClientCertificateException()
        : this("requires a client certificate")
    {
    }

    public UpstreamClientCertificateException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problem = message;
    }

    /// <summary>What is wrong, to follow "host:port": <c>requires a client certificate and the cluster has none (...)</c>.</summary>
    public string Problem { get; } = string.Empty;
}
