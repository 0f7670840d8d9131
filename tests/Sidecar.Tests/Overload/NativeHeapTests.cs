using System.Runtime.InteropServices;
using Sidecar.Overload;

namespace Sidecar.Tests.Overload;

public sealed class NativeHeapTests
{
    [Fact]
    public void Trim_OnGlibcLinux_ReachesMallocTrim_ElsewhereDoesNothing()
    {
        // The binding is resolved at the first call: a wrong library or entry point name shows up here as false on
        // the Linux machines the tests and the image run on (glibc), not as memory that silently stays resident.
        var glibc = OperatingSystem.IsLinux() && !RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.Ordinal);

        Assert.Equal(glibc, NativeHeap.Trim());
        Assert.Equal(glibc, NativeHeap.Trim());
    }
}
