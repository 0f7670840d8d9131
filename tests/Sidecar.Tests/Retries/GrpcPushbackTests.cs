using Sidecar.Retries;

namespace Sidecar.Tests.Retries;

/// <summary><see cref="PushbackParser.TryParseGrpc"/>: gRFC A6's reading of <c>grpc-retry-pushback-ms</c>.</summary>
public sealed class GrpcPushbackTests
{
    [Theory]
    [InlineData("0", 0)]
    [InlineData("800", 800)]
    [InlineData(" 800 ", 800)]
    [InlineData("99999999999999999999", 86_400_000)]
    public void TryParseGrpc_NonNegativeInteger_IsTheExactDelay(string value, long milliseconds)
    {
        Assert.True(PushbackParser.TryParseGrpc(value, out var delay));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), delay);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-800")]
    [InlineData("")]
    [InlineData(null)]
    [InlineData("soon")]
    [InlineData("1.5")]
    [InlineData("+5")]
    [InlineData("-")]
    [InlineData("5 ms")]
    public void TryParseGrpc_NegativeOrMalformed_MeansDoNotRetry(string? value)
    {
        Assert.False(PushbackParser.TryParseGrpc(value, out var delay));
        Assert.Equal(TimeSpan.Zero, delay);
    }
}
