using Sidecar.Grpc;

namespace Sidecar.Tests.Grpc;

public sealed class GrpcProtocolTrimStatusTests
{
    [Theory]
    [InlineData("14 ", "14")]
    [InlineData(" 14", "14")]
    [InlineData("\t8\t", "8")]
    [InlineData("14", "14")]
    public void TrimStatus_PaddedOrPlain_LeavesTheDigits(string value, string expected)
    {
        var headers = new HeaderDictionary { [GrpcProtocol.Status] = value };

        GrpcProtocol.TrimStatus(headers);

        Assert.Equal(expected, headers[GrpcProtocol.Status].ToString());
    }

    [Fact]
    public void TrimStatus_NoStatus_AddsNone()
    {
        var headers = new HeaderDictionary();

        GrpcProtocol.TrimStatus(headers);

        Assert.False(headers.ContainsKey(GrpcProtocol.Status));
    }
}
