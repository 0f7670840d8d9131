using Sidecar.Forwarding;

namespace Sidecar.Tests.Forwarding;

public sealed class AbsoluteFormTargetTests
{
    [Theory]
    [InlineData("http://a/public/..%2F..%2Fok", "/public/..%2F..%2Fok")]
    [InlineData("HTTP://a:8080/x?y=1", "/x?y=1")]
    [InlineData("https://user@a/x", "/x")]
    [InlineData("http://a", "/")]
    [InlineData("http://a?q=1", "/?q=1")]
    public void TryGetOriginForm_AbsoluteForm_PathAndQuery(string raw, string expected)
    {
        Assert.True(AbsoluteFormTarget.TryGetOriginForm(raw, out var originForm));
        Assert.Equal(expected, originForm);
    }

    [Theory]
    [InlineData("/x")]
    [InlineData("/http://a/x")]
    [InlineData("*")]
    [InlineData("a:80")]
    [InlineData("")]
    [InlineData(null)]
    public void TryGetOriginForm_OtherForms_False(string? raw)
    {
        Assert.False(AbsoluteFormTarget.TryGetOriginForm(raw, out _));
    }

    [Theory]
    [InlineData("/public/..%2F..%2Fok", "/public/..%2F..%2Fok")]
    [InlineData("/a%2fb", "/a%2fb")]
    [InlineData("/caf%C3%A9/x%20y", "/café/x y")]
    [InlineData("/p/../n/a/%2E%2E/b", "/n/b")]
    [InlineData("/a/./b/.", "/a/b/")]
    [InlineData("/../../x", "/x")]
    [InlineData("/a/..", "/")]
    [InlineData("/", "/")]
    [InlineData("/100%", "/100%")]
    public void DecodePath_AsKestrelDecodesOriginForm(string raw, string expected)
    {
        Assert.Equal(expected, AbsoluteFormTarget.DecodePath(raw));
    }
}
