using Sidecar.Telemetry;

namespace Sidecar.Tests.Telemetry;

public sealed class HttpMethodLabelTests
{
    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("get", "GET")]
    [InlineData("Head", "HEAD")]
    [InlineData("POST", "POST")]
    [InlineData("put", "PUT")]
    [InlineData("DELETE", "DELETE")]
    [InlineData("CONNECT", "CONNECT")]
    [InlineData("OPTIONS", "OPTIONS")]
    [InlineData("trace", "TRACE")]
    [InlineData("PATCH", "PATCH")]
    [InlineData("PROPFIND", "_OTHER")]
    [InlineData("QUERY", "_OTHER")]
    [InlineData("GET ", "_OTHER")]
    [InlineData("", "_OTHER")]
    public void Of_KnownMethodsUpperCaseOthersOther(string method, string expected)
    {
        Assert.Equal(expected, HttpMethodLabel.Of(method));
    }

    [Fact]
    public void SpanPrefix_OtherIsHttp()
    {
        Assert.Equal("HTTP", HttpMethodLabel.SpanPrefix(HttpMethodLabel.Of(new string('X', 2048))));
        Assert.Equal("GET", HttpMethodLabel.SpanPrefix(HttpMethodLabel.Of("get")));
    }
}
