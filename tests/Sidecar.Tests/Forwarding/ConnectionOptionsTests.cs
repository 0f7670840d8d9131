using Sidecar.Forwarding;

namespace Sidecar.Tests.Forwarding;

public sealed class ConnectionOptionsTests
{
    [Fact]
    public void RemoveNamedIn_FieldsNamedInConnection_RemovedOthersKept()
    {
        var headers = new HeaderDictionary
        {
            ["Connection"] = new(["close, X-Drop ,\tx-also-drop", "keep-alive,,X-THIRD"]),
            ["X-Drop"] = "1",
            ["X-Also-Drop"] = "2",
            ["x-third"] = "3",
            ["X-Keep"] = "4",
            ["Content-Length"] = "10",
        };

        ConnectionOptions.RemoveNamedIn(headers);

        Assert.Equal(["Connection", "X-Keep", "Content-Length"], headers.Keys);
    }

    [Theory]
    [InlineData("Upgrade")]
    [InlineData("content-length")]
    [InlineData("Transfer-Encoding")]
    [InlineData("Host")]
    [InlineData("TE")]
    public void RemoveNamedIn_FramingAndUpgradeFields_NeverRemoved(string name)
    {
        var headers = new HeaderDictionary { [name] = "x" };

        ConnectionOptions.RemoveNamedIn("close, " + name, headers);

        Assert.True(headers.ContainsKey(name));
    }

    [Fact]
    public void RemoveNamedIn_UsualOptions_AllocateNothing()
    {
        var headers = new HeaderDictionary { ["X-Keep"] = "1" };
        ConnectionOptions.RemoveNamedIn("keep-alive, Upgrade", headers);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            ConnectionOptions.RemoveNamedIn("close", headers);
            ConnectionOptions.RemoveNamedIn("keep-alive, Upgrade", headers);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
