using Sidecar.Retries;

namespace Sidecar.Tests.Retries;

/// <summary><see cref="ControlHeaders"/>: the caller's <c>x-sidecar-*</c> headers are read only where allowed and never forwarded.</summary>
public sealed class ControlHeadersTests
{
    [Fact]
    public void Any_NoControlHeader_False()
    {
        Assert.False(ControlHeaders.Any(Headers(("Accept", "*/*"), ("x-other", "1"))));
    }

    [Fact]
    public void Strip_MixedCaseControlHeaders_RemovesOnlyThem()
    {
        var headers = Headers(("X-Sidecar-Max-Attempts", "2"), ("x-sidecar-anything", "v"), ("Accept", "*/*"));
        Assert.True(ControlHeaders.Any(headers));

        ControlHeaders.Strip(headers);

        Assert.False(ControlHeaders.Any(headers));
        Assert.Equal(["Accept"], headers.Keys);
    }

    [Theory]
    [InlineData("2", 2)]
    [InlineData("9", 3)]
    [InlineData("0", 3)]
    [InlineData("-1", 3)]
    [InlineData("+2", 3)]
    [InlineData(" 2", 3)]
    [InlineData("two", 3)]
    [InlineData("99999999999999999999", 3)]
    public void MaxAttempts_RequestedValue_OnlyAPositiveIntegerLowersThePolicy(string value, int expected)
    {
        Assert.Equal(expected, ControlHeaders.MaxAttempts(Headers(("x-sidecar-max-attempts", value)), policyMax: 3));
    }

    [Fact]
    public void MaxAttempts_RepeatedHeader_PolicyApplies()
    {
        var headers = new HeaderDictionary { ["x-sidecar-max-attempts"] = new(["1", "2"]) };

        Assert.Equal(3, ControlHeaders.MaxAttempts(headers, policyMax: 3));
    }

    [Fact]
    public void CallerTimeout_OverridesNotAllowed_OnlyGrpcTimeoutCounts()
    {
        var headers = Headers(("x-sidecar-timeout-ms", "100"), ("grpc-timeout", "2S"));

        Assert.Equal(TimeSpan.FromSeconds(2), ControlHeaders.CallerTimeout(headers, allowOverrides: false));
        Assert.Null(ControlHeaders.CallerTimeout(Headers(("x-sidecar-timeout-ms", "100")), allowOverrides: false));
    }

    [Fact]
    public void CallerTimeout_BothHeaders_TheShorterWins()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), ControlHeaders.CallerTimeout(Headers(("x-sidecar-timeout-ms", "100"), ("grpc-timeout", "2S")), allowOverrides: true));
        Assert.Equal(TimeSpan.FromMilliseconds(50), ControlHeaders.CallerTimeout(Headers(("x-sidecar-timeout-ms", "100"), ("grpc-timeout", "50m")), allowOverrides: true));
    }

    private static HeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var result = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            result[name] = value;
        }

        return result;
    }
}
