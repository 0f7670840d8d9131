namespace Sidecar.Overload;

/// <summary>
/// The bytes reserved for replay copies by the requests in flight (<see cref="RequestAdmission"/>), and the most they
/// may reserve: no bound while memory is not short (<c>max_buffered_bytes</c> then counts bytes as they arrive, so a
/// slow upload declaring a large body holds only what it sent), else what was reserved as it became short.
/// </summary>
internal sealed class ReplayRoom
{
    private long _reserved;
    private long _room = long.MaxValue;

    /// <summary>Bytes reserved now.</summary>
    public long Reserved => Interlocked.Read(ref _reserved);

    /// <summary>
    /// Reserves <paramref name="copyBytes"/> (0: none wanted): false when the request must wait for a copy held to
    /// end; otherwise <paramref name="entry"/> says what it was let in with.
    /// </summary>
    public bool TryReserve(long copyBytes, out AdmissionEntry entry)
    {
        if (copyBytes <= 0)
        {
            entry = new AdmissionEntry(true, 0, CopyShed: false);
            return true;
        }

        var room = Volatile.Read(ref _room);
        var reserved = Interlocked.Add(ref _reserved, copyBytes);
        if (reserved <= room)
        {
            entry = new AdmissionEntry(true, copyBytes, CopyShed: false);
            return true;
        }

        Interlocked.Add(ref _reserved, -copyBytes);
        if (reserved == copyBytes)
        {
            // No request holds a copy, so none will end to make room: go now, without one.
            entry = new AdmissionEntry(true, 0, CopyShed: true);
            return true;
        }

        entry = default;
        return false;
    }

    /// <summary>Gives back what a request reserved, once its copy is freed.</summary>
    public void Release(long copyBytes)
    {
        if (copyBytes > 0)
        {
            Interlocked.Add(ref _reserved, -copyBytes);
        }
    }

    /// <summary>Memory is short: the room is what is reserved now; copies held may be replaced as they end, not added to.</summary>
    public void Freeze() => Volatile.Write(ref _room, Reserved);

    /// <summary>Memory is no longer short: no bound.</summary>
    public void Thaw() => Volatile.Write(ref _room, long.MaxValue);
}
