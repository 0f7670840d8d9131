using System.Runtime.InteropServices;

namespace Sidecar.Overload;

/// <summary>
/// Gives the C heap's free pages back to the OS: glibc's <c>malloc_trim(0)</c>. The GC returns managed memory itself;
/// what OpenSSL allocates (each TLS connection's state and record buffers, each handshake's certificate and key work)
/// comes from glibc's malloc, spread over its per-thread arenas, and glibc gives back only the free top of an arena.
/// After a load over TLS the freed handshake and connection memory stayed resident: with 4 TLS clusters after 128
/// connections, 5.5 to 14 MiB came back with this call (tests/bench/README.md, "TLS upstream"). Linux with glibc only;
/// elsewhere (macOS, Windows, musl, which has no <c>malloc_trim</c>) it does nothing.
/// </summary>
internal static partial class NativeHeap
{
    private static volatile bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>
    /// Returns the C heap's free pages; false where there is no <c>malloc_trim</c>. Walks every arena under its lock:
    /// for idle moments and memory pressure, never per request.
    /// </summary>
    public static bool Trim()
    {
        if (_unavailable)
        {
            return false;
        }

        try
        {
            _ = MallocTrim(0);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
            return false;
        }
    }

    // "libc" is mapped to the C library's real file name (libc.so.6 on glibc) by .NET's native library loader.
    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
