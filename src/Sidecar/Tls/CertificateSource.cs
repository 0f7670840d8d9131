using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Sidecar.Configuration;

namespace Sidecar.Tls;

/// <summary>
/// The files of one TLS endpoint (a cluster's <c>tls</c> or <c>listen.tls</c>) and the material last loaded from them.
/// <see cref="Reload"/> reads the files again and swaps in a new generation when their bytes changed, so a Kubernetes
/// Secret volume's atomic <c>..data</c> symlink swap (or any rewrite) is picked up; a new generation that does not
/// load keeps the last good one. Handshakes read <see cref="Current"/>: new connections use the new material,
/// established ones are untouched.
/// </summary>
internal sealed class CertificateSource
{
    private readonly TimeProvider _timeProvider;
    private CertificateMaterial _current = CertificateMaterial.Empty;
    private byte[] _fingerprint = [];
    private long _failures;
    private long _rotations;
    private bool _loaded;

    /// <param name="owner">What the files belong to, as the metrics label it: <c>cluster</c> or <c>listener</c> (<c>MetricTags</c>).</param>
    /// <param name="name">The cluster's name, or <c>proxy</c> for the listener.</param>
    /// <param name="caFile">The CA bundle, if any.</param>
    /// <param name="certFile">The certificate chain, if any (with <paramref name="keyFile"/>).</param>
    /// <param name="keyFile">The certificate's key.</param>
    /// <param name="timeProvider">The clock a certificate's validity is judged on.</param>
    public CertificateSource(string owner, string name, string? caFile, string? certFile, string? keyFile, TimeProvider timeProvider)
    {
        Owner = owner;
        Name = name;
        CaFile = caFile;
        CertFile = certFile;
        KeyFile = keyFile;
        _timeProvider = timeProvider;
    }

    public string Owner { get; }

    public string Name { get; }

    public string? CaFile { get; }

    public string? CertFile { get; }

    public string? KeyFile { get; }

    /// <summary>The last good material; <see cref="CertificateMaterial.Empty"/> until a load succeeded.</summary>
    public CertificateMaterial Current => Volatile.Read(ref _current);

    /// <summary>Rotations whose files did not load (the last good material was kept).</summary>
    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Rotations that loaded (the first load not counted).</summary>
    public long Rotations => Interlocked.Read(ref _rotations);

    /// <summary>
    /// Reads the files; when their bytes differ from the last load, loads them and swaps the material in. Not
    /// thread-safe: one reloader calls it (and the constructor's owner once, before handshakes start).
    /// </summary>
    public CertificateReload Reload()
    {
        byte[] fingerprint;
        try
        {
            fingerprint = Fingerprint();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Fail($"cannot read the files: {ex.Message}");
        }

        if (fingerprint.AsSpan().SequenceEqual(_fingerprint))
        {
            return CertificateReload.Unchanged;
        }

        X509Certificate2Collection? authorities = null;
        if (CaFile is not null && !CertificateFiles.TryLoadAuthorities(CaFile, out authorities, out var caError))
        {
            return Fail(caError, fingerprint);
        }

        X509Certificate2? certificate = null;
        X509Certificate2Collection chain = [];
        if (CertFile is not null && KeyFile is not null
            && !CertificateFiles.TryLoadCertificate(CertFile, KeyFile, _timeProvider.GetUtcNow(), out certificate, out chain!, out var certError))
        {
            return Fail(certError, fingerprint);
        }

        var first = !_loaded;
        _loaded = true;
        _fingerprint = fingerprint;
        Volatile.Write(ref _current, new CertificateMaterial(authorities, certificate, chain));
        if (!first)
        {
            Interlocked.Increment(ref _rotations);
        }

        return first ? CertificateReload.Loaded : CertificateReload.Rotated;
    }

    /// <summary>A hash of the files' bytes: a change of any of them is a new generation.</summary>
    private byte[] Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in (ReadOnlySpan<string?>)[CaFile, CertFile, KeyFile])
        {
            if (file is not null)
            {
                hash.AppendData(File.ReadAllBytes(file));
                hash.AppendData([0]);
            }
        }

        return hash.GetHashAndReset();
    }

    private CertificateReload Fail(string error, byte[]? fingerprint = null)
    {
        // The broken generation is remembered so it is reported once, not at every poll; a fixed file is new bytes again.
        if (fingerprint is not null)
        {
            _fingerprint = fingerprint;
        }

        Interlocked.Increment(ref _failures);
        return CertificateReload.Failed(error);
    }
}

/// <summary>What a <see cref="CertificateSource.Reload"/> did.</summary>
internal readonly record struct CertificateReload(CertificateReloadResult Result, string? Error)
{
    public static CertificateReload Unchanged => new(CertificateReloadResult.Unchanged, null);

    public static CertificateReload Loaded => new(CertificateReloadResult.Loaded, null);

    public static CertificateReload Rotated => new(CertificateReloadResult.Rotated, null);

    public static CertificateReload Failed(string error) => new(CertificateReloadResult.Failed, error);
}

internal enum CertificateReloadResult
{
    /// <summary>The files have not changed.</summary>
    Unchanged,

    /// <summary>The first load.</summary>
    Loaded,

    /// <summary>New files were loaded and are in use for new connections.</summary>
    Rotated,

    /// <summary>The files did not load; the last good material stays in use.</summary>
    Failed,
}
