using Sidecar.Grpc;
using Sidecar.Http;

namespace Sidecar.Tests.Grpc;

public sealed class GrpcStatusTests
{
    [Theory]
    [InlineData("ok", 0)]
    [InlineData("cancelled", 1)]
    [InlineData("deadline-exceeded", 4)]
    [InlineData("resource-exhausted", 8)]
    [InlineData("unavailable", 14)]
    [InlineData("unauthenticated", 16)]
    [InlineData("0", 0)]
    [InlineData("14", 14)]
    [InlineData("16", 16)]
    public void TryParseName_NameOrNumber_IsTheCode(string text, int code)
    {
        Assert.True(GrpcStatus.TryParseName(text, out var parsed));
        Assert.Equal(code, parsed);
    }

    [Theory]
    [InlineData("UNAVAILABLE")]
    [InlineData("resource_exhausted")]
    [InlineData("17")]
    [InlineData("-1")]
    [InlineData("")]
    public void TryParseName_Other_Fails(string text) => Assert.False(GrpcStatus.TryParseName(text, out _));

    [Theory]
    [InlineData("14", 14)]
    [InlineData(" 0 ", 0)]
    [InlineData("17", GrpcStatus.Unknown)]
    [InlineData("999999999", GrpcStatus.Unknown)]
    public void TryParseHeader_Digits_IsTheCodeOrUnknown(string value, int code)
    {
        Assert.True(GrpcStatus.TryParseHeader(value, out var parsed));
        Assert.Equal(code, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("-1")]
    [InlineData("1 4")]
    [InlineData("9999999999")]
    public void TryParseHeader_NotDigits_Fails(string value) => Assert.False(GrpcStatus.TryParseHeader(value, out _));

    [Fact]
    public void Label_EveryCode_IsBoundedSnakeCase()
    {
        var labels = Enumerable.Range(-1, 20).Select(GrpcStatus.Label).Distinct().ToList();

        Assert.Equal(GrpcStatus.Count, labels.Count);
        Assert.Contains("resource_exhausted", labels);
        Assert.Equal("unknown", GrpcStatus.Label(99));
        Assert.Equal("grpc_unavailable", GrpcStatus.RetryReason(GrpcStatus.Unavailable));
    }

    [Theory]
    [InlineData(1500, "1500m")]
    [InlineData(1, "1m")]
    [InlineData(0.5, "500u")]
    [InlineData(0, "1u")]
    [InlineData(-5, "1u")]
    [InlineData(99_999_999, "99999999m")]
    [InlineData(100_000_000, "100000S")]
    public void FormatTimeout_Milliseconds_IsGrpcTimeoutRoundedDown(double milliseconds, string expected)
    {
        var formatted = GrpcProtocol.FormatTimeout(TimeSpan.FromMilliseconds(milliseconds));

        Assert.Equal(expected, formatted);
        Assert.True(Sidecar.Retries.DeadlineHeaderParser.TryParseGrpcTimeout(formatted, out var parsed));
        Assert.True(parsed <= TimeSpan.FromMilliseconds(Math.Max(milliseconds, 0.001)) || milliseconds <= 0);
    }

    [Fact]
    public void FormatTimeout_OneDay_RoundTripsThroughTheDeadlineParser()
    {
        Assert.True(Sidecar.Retries.DeadlineHeaderParser.TryParseGrpcTimeout(GrpcProtocol.FormatTimeout(TimeSpan.FromHours(24)), out var parsed));
        Assert.Equal(TimeSpan.FromHours(24), parsed);
    }

    [Theory]
    [InlineData(504, GrpcStatus.DeadlineExceeded)]
    [InlineData(502, GrpcStatus.Unavailable)]
    [InlineData(503, GrpcStatus.Unavailable)]
    [InlineData(404, GrpcStatus.Unimplemented)]
    [InlineData(400, GrpcStatus.Internal)]
    [InlineData(413, GrpcStatus.ResourceExhausted)]
    [InlineData(405, GrpcStatus.Unknown)]
    public void StatusFor_SidecarsOwnErrors_MapToGrpc(int httpStatus, int expected) =>
        Assert.Equal(expected, GrpcResponse.StatusFor(httpStatus));

    [Theory]
    [InlineData("plain text", "plain text")]
    [InlineData("50% off", "50%25 off")]
    [InlineData("a\nb", "a%0Ab")]
    [InlineData("é", "%C3%A9")]
    public void EncodeMessage_PercentEncodesWhatGrpcRequires(string message, string expected) =>
        Assert.Equal(expected, GrpcResponse.EncodeMessage(message));
}
